using System.CommandLine;
using Tessera.Cli.Commands;

namespace Tessera.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args is ["worker" or "batch" or "bench-cluster", ..])
        {
            // Idle thread-pool threads spin before they sleep. A worker's compute runs on its own model threads,
            // and workers share cores with each other and with their coordinator, so the spinning took cycles from
            // compute (bench-cluster, 3-stage GPT pipeline on 2 cores: 150-260 context switches per batch per worker
            // became 40-80, throughput +6 to +17%). The coordinators of throughput jobs (batch, bench-cluster) spun
            // as much: 0.21 -> 0.15 ms of CPU per row in that pipeline. Must be set before the thread pool first
            // starts. Servers and loadgen keep the default: without spinning the trivial model's gateway p50 went
            // from 0.15 to 0.30 ms.
            AppContext.SetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", 0);
            // Socket completions run on the socket engine's thread instead of being handed to the thread pool (a futex
            // wake and a context switch per frame received): the frame loops only parse headers and copy tensors, and
            // never block. bench-cluster, 3-stage GPT pipeline: workers' CPU per row -4%, throughput +3%. Read when the
            // first socket starts, and inherited by the local workers these commands start.
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        }

        var root = new RootCommand("Tessera: run ONNX models on one machine or across many.")
        {
            RunCommand.Create(),
            BatchCommand.Create(),
            InspectCommand.Create(),
            OnnxTestCommand.Create(),
            DemoCommand.Create(),
            OcrCommand.Create(),
            BenchCommand.Create(),
            ServeCommand.Create(),
            AverageCommand.Create(),
            LoadGenCommand.Create(),
            WorkerCommand.Create(),
            BenchTransportCommand.Create(),
            BenchClusterCommand.Create(),
            PlanCommand.Create(),
            CalibrateCommand.Create(),
            RooflineCommand.Create(),
            BenchGemmCommand.Create(),
            QuantizeCommand.Create(),
        };
        return CommandHost.Invoke(root, args);
    }
}
