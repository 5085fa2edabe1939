using System.CommandLine;
using Tessera.Cli.Commands;

namespace Tessera.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("Tessera: run ONNX models on one machine or across many.")
        {
            RunCommand.Create(),
            InspectCommand.Create(),
            OnnxTestCommand.Create(),
            DemoCommand.Create(),
            BenchCommand.Create(),
            ServeCommand.Create(),
            AverageCommand.Create(),
            LoadGenCommand.Create(),
            WorkerCommand.Create(),
            BenchTransportCommand.Create(),
            BenchClusterCommand.Create(),
            PlanCommand.Create(),
            CalibrateCommand.Create(),
        };
        return CommandHost.Invoke(root, args);
    }
}
