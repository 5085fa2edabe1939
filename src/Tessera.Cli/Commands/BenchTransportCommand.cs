using System.CommandLine;
using System.Globalization;
using Tessera.Cli.Common;
using Tessera.Cluster.Bench;

namespace Tessera.Cli.Commands;

/// <summary>`tessera bench-transport`: cluster transport throughput and per-hop latency between two connections of one process, through shared memory and over loopback TCP.</summary>
internal static class BenchTransportCommand
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "tensor bytes for the throughput test (K, M, G suffixes)", DefaultValueFactory = _ => "4M" };
        var small = new Option<string>("--latency-size") { Description = "tensor bytes for the latency test", DefaultValueFactory = _ => "4K" };
        var seconds = new Option<double>("--seconds") { Description = "time per test", DefaultValueFactory = _ => 3 };
        var command = new Command("bench-transport", "Measure the cluster transport on loopback: throughput of large tensors, per-hop latency of small ones")
        {
            size, small, seconds,
        };
        command.SetAction(parse =>
        {
            long bytes = WorkerCommand.ParseBytes("--size", parse.GetValue(size)!);
            long latencyBytes = WorkerCommand.ParseBytes("--latency-size", parse.GetValue(small)!);
            double s = parse.GetValue(seconds);
            if (!(s > 0) || bytes % 4 != 0 || latencyBytes % 4 != 0 || latencyBytes > 1 << 30)
            {
                throw new CliException("--seconds must be more than 0 and sizes multiples of 4 bytes");
            }

            // Processes of one host share memory; remote ones (and TESSERA_SHARED_MEMORY=off) use TCP: both are measured.
            foreach (var (label, shared) in new[] { ("", true), ("tcp ", false) })
            {
                var r = TransportBench.RunAsync(bytes, (int)latencyBytes, 10, TimeSpan.FromSeconds(s), shared).GetAwaiter().GetResult();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{label}throughput: {r.ThroughputBytesPerSecond / 1e9:F2} GB/s ({r.Iterations} tensors of {r.ThroughputBytes} bytes; {r.TensorPath}; cpu {r.CpuSecondsPerGigabyte * 1e3:F1} ms per GB, writer and reader)\n{label}per-hop latency: {r.HopMicroseconds:F1} us (median, tensors of {r.LatencyBytes} bytes)"));
            }

            return 0;
        });
        return command;
    }
}
