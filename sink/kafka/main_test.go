package kafka_test

import (
	"os"
	"testing"

	"github.com/sluicecdc/sluice/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
