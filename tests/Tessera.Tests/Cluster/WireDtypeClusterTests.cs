using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Engine;
using Tessera.Partitioning.TensorParallel;
using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Partitioning;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>
/// `--wire-dtype` across real worker processes: a two-stage pipeline whose every hop (inputs, activations, results)
/// is narrowed gives exactly what one process gives when it rounds the same tensors at the same hops, and a
/// tensor-parallel group (relayed inputs, AllReduce partial sums) stays within one rounding's error of float32; the
/// workers' tensor bytes are exactly half of float32's. Float32, the default, stays bit-identical.
/// </summary>
public sealed class WireDtypeClusterTests : IDisposable
{
    private const int K = 16, N = 32, Rows = 8;
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task APipelineRoundsAtEveryHopAndSendsHalfTheBytes()
    {
        var stage1 = ClusterFixture.Stage1(K, N, 3);
        var stage2 = ClusterFixture.Stage2(K, N, 3);
        var files = new[] { stage1, stage2 }.Select((m, i) => ModelFile.FromPath(_fx.Save(m, $"wire-stage{i}.onnx"))).ToArray();
        var x = ClusterFixture.Random([Rows, K], 77);
        var runs = await RunEachWireAsync(files, (wa, wb) => new Route([new RouteStep(wa, files[0].Hash, ["x"]), new RouteStep(wb, files[1].Hash, ["h", "x"])]), x);

        // One process, rounding each tensor where it crosses a process: x to stage 1, h and x to stage 2, y back.
        var first = new InferenceSession(stage1);
        var second = new InferenceSession(stage2);
        foreach (var wire in Enum.GetValues<WireDataType>())
        {
            var sent = Hop(x, wire);
            var h = first.Run(new Dictionary<string, Tensor> { ["x"] = sent })["h"];
            var y = Hop(second.Run(new Dictionary<string, Tensor> { ["h"] = Hop(h, wire), ["x"] = Hop(sent, wire) })["y"], wire);
            Assert.Equal(y.ToArray<float>(), runs[wire].Y.ToArray<float>());
        }

        // Stage 1's worker sends h and x on, stage 2's sends y back: float32's 4 bytes each, or 2.
        Assert.Equal(4L * Rows * (N + K + K), runs[WireDataType.Float32].Bytes);
        Assert.Equal(runs[WireDataType.Float32].Bytes / 2, runs[WireDataType.Float16].Bytes);
        Assert.Equal(runs[WireDataType.Float32].Bytes / 2, runs[WireDataType.BFloat16].Bytes);
        Assert.False(runs[WireDataType.Float16].Y.Bytes.SequenceEqual(runs[WireDataType.Float32].Y.Bytes));

        // The error it adds, against float32: within a few roundings of |y| <= 2 (2^-11 for float16, 2^-8 for bfloat16).
        Assert.InRange(MaxAbs(runs[WireDataType.Float32].Y, runs[WireDataType.Float16].Y), 1e-6, 4e-3);
        Assert.InRange(MaxAbs(runs[WireDataType.Float32].Y, runs[WireDataType.BFloat16].Y), 1e-5, 3e-2);
    }

    [Fact]
    public async Task ATensorParallelGroupNarrowsItsRelayAndPartialSums()
    {
        var split = TensorParallelRewriter.Rewrite(ClusterFixture.Whole(K, N, 9), 2);
        Assert.Equal(1, split.AllReducesPerRun);
        Assert.Equal(0, split.AllGathersPerRun);
        var shards = split.Shards.Select((m, i) => ModelFile.FromPath(_fx.Save(m, $"wire-rank{i}.onnx"))).ToArray();
        var x = ClusterFixture.Random([Rows, K], 78);
        var runs = await RunEachWireAsync(shards, (wa, wb) => new Route([new RouteStep(wa, shards[0].Hash, ["x"]) { OtherRanks = [new RouteShard(wb, shards[1].Hash)] }]), x);

        using (var group = new TensorParallelGroup(split.Shards, new SessionOptions { Threads = 1 }))
        {
            Assert.Equal(group.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"].ToArray<float>(), runs[WireDataType.Float32].Y.ToArray<float>());
        }

        // Rank 0 relays x to rank 1, each rank sends its partial sum of y to the other, rank 0 sends y back.
        Assert.Equal(4L * Rows * K * 4, runs[WireDataType.Float32].Bytes);
        Assert.Equal(runs[WireDataType.Float32].Bytes / 2, runs[WireDataType.Float16].Bytes);
        Assert.Equal(runs[WireDataType.Float32].Bytes / 2, runs[WireDataType.BFloat16].Bytes);
        Assert.InRange(MaxAbs(runs[WireDataType.Float32].Y, runs[WireDataType.Float16].Y), 1e-6, 4e-3);
        Assert.InRange(MaxAbs(runs[WireDataType.Float32].Y, runs[WireDataType.BFloat16].Y), 1e-5, 3e-2);
    }

    [Fact]
    public void RunTakesTheWireDtypeAndRefusesUnknownOnes()
    {
        var c = ConformanceSet.Get("dense");
        string input = Path.Combine(_fx.Directory, "input.npy");
        NpyFormat.WriteFile(input, c.Inputs["input"]);
        string output = Path.Combine(_fx.Directory, "out");
        var run = CliProcess.Run("run", "--model", c.ModelPath, "--input", "input=" + input, "--output-dir", output, "--workers", "2", "--strategy", "pipeline", "--wire-dtype", "bfloat16");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var got = NpyFormat.ReadFile(Path.Combine(output, "output.npy"));
        var expected = c.Expected["output"];
        Assert.Equal(expected.Shape, got.Shape);
        double scale = expected.ToArray<float>().Max(v => Math.Abs((double)v));
        Assert.InRange(MaxAbs(expected, got), 0, 0.05 * scale);

        var unknown = CliProcess.Run("run", "--model", c.ModelPath, "--input", "input=" + input, "--output-dir", output, "--workers", "2", "--wire-dtype", "int8");
        Assert.Equal("tessera: --wire-dtype: unknown wire data type 'int8' (expected float32|float16|bfloat16)", unknown.Stderr.Trim());
        var alone = CliProcess.Run("run", "--model", c.ModelPath, "--input", "input=" + input, "--output-dir", output, "--wire-dtype", "float16");
        Assert.Equal("tessera: --wire-dtype goes with --workers or --cluster (a run in this process sends no tensors)", alone.Stderr.Trim());
    }

    /// <summary>
    /// Runs <paramref name="x"/> once per wire data type, each with a coordinator of its own on the same two workers
    /// (the first file loaded on the first, the second on the second), along the route <paramref name="route"/> makes.
    /// </summary>
    private async Task<Dictionary<WireDataType, (Tensor Y, long Bytes)>> RunEachWireAsync(ModelFile[] files, Func<WorkerClient, WorkerClient, Route> route, Tensor x)
    {
        using var a = _fx.StartWorker();
        using var b = _fx.StartWorker();
        var runs = new Dictionary<WireDataType, (Tensor Y, long Bytes)>();
        foreach (var wire in Enum.GetValues<WireDataType>())
        {
            await using var coordinator = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions with { WireDataType = wire });
            var wa = await coordinator.ConnectAsync(a.Address);
            var wb = await coordinator.ConnectAsync(b.Address);
            await coordinator.EnsureModelAsync(wa, files[0]);
            await coordinator.EnsureModelAsync(wb, files[1]);
            runs[wire] = await RunCountingAsync(coordinator, route(wa, wb), x);
        }

        return runs;
    }

    /// <summary>Runs the route once; the tensor bytes the workers sent for it (asked of them after the answer).</summary>
    private static async Task<(Tensor Y, long Bytes)> RunCountingAsync(ClusterCoordinator coordinator, Route route, Tensor x)
    {
        long before = await WorkersSentAsync(coordinator);
        var y = (await coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = x }, ["y"]))["y"];
        return (y, await WorkersSentAsync(coordinator) - before);
    }

    private static async Task<long> WorkersSentAsync(ClusterCoordinator coordinator)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var infos = await Task.WhenAll(coordinator.Workers.Select(w => w.RefreshInfoAsync(timeout.Token)));
        return infos.Sum(i => i.TensorBytesSent);
    }

    /// <summary>A float32 tensor as it arrives after one hop, by .NET's scalar conversions.</summary>
    private static Tensor Hop(Tensor t, WireDataType wire)
    {
        var values = t.ToArray<float>();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = wire switch
            {
                WireDataType.Float16 => (float)(Half)values[i],
                WireDataType.BFloat16 => BFloat16.FromSingle(values[i]).ToSingle(),
                _ => values[i],
            };
        }

        return Tensor.FromArray(values, t.Shape);
    }

    private static double MaxAbs(Tensor expected, Tensor actual) =>
        expected.ToArray<float>().Zip(actual.ToArray<float>(), (e, g) => Math.Abs((double)e - g)).Max();
}
