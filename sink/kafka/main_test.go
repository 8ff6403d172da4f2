package kafka_test

import (
	"log/slog"
	"os"
	"testing"

	"github.com/sluicecdc/sluice/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
