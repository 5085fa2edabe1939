using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Transport;
using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Partitioning;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;
using Tessera.Partitioning.TensorParallel;
using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Partitioning;
using Tessera.Tests.Partitioning.TensorParallel;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Tensor-parallel plans across real worker processes on loopback: the ranks of a group exchange their collective
/// blocks worker to worker, agree with the single-node session by the tensor-parallel rule, and equal the
/// in-process <see cref="TensorParallelGroup"/> bit for bit; a rank that dies mid-run fails the request clearly
/// and the other rank stops waiting at once.
/// </summary>
public sealed class TensorParallelClusterTests : IDisposable
{
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Theory]
    [InlineData("dense")]
    [InlineData("bert")]
    [InlineData("gpt")]
    public async Task DegreeTwoOverTwoWorkersAgreesWithOneSessionAndEqualsTheInProcessGroup(string model)
    {
        var c = ConformanceSet.Get(model);
        using var w0 = _fx.StartWorker();
        using var w1 = _fx.StartWorker();
        var plan = TensorPlan(c, [w0.Address, w1.Address], out string folder);
        await using var coordinator = await _fx.CoordinatorAsync();
        var runner = await TestDeployments.OnPlanAsync(coordinator, plan, folder);
        Assert.Equal(2, runner.Placements.Single().Workers.Count);

        var outputs = await runner.RunAsync(c.Inputs);
        ParallelAgreement.AssertAgrees(c.Expected, outputs, $"{model}, degree 2 on 2 workers");
        using (var group = new TensorParallelGroup(Shards(plan, folder), new SessionOptions { Threads = 1 }))
        {
            ConformanceSet.AssertBitIdentical(group.Run(c.Inputs), outputs, $"{model}, workers vs in-process group");
        }

        // Concurrent requests queue on both ranks in the same order (rank 0 relays them), so none waits on the other.
        var again = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => runner.RunAsync(c.Inputs)));
        foreach (var result in again)
        {
            ConformanceSet.AssertBitIdentical(outputs, result, $"{model}, concurrent requests");
        }
    }

    [Fact]
    public async Task PipelineStagesThatAreTensorParallelGroupsEqualInProcessGroups()
    {
        // Two stages, each a group of degree 2 over the same two workers in opposite rank order: a route step is a
        // group, the first group's rank 0 forwards to the second group's rank 0, which relays to its other rank.
        const int k = 16, n = 32;
        var split1 = TensorParallelRewriter.Rewrite(ClusterFixture.Stage1(k, n, 5), 2);
        var split2 = TensorParallelRewriter.Rewrite(ClusterFixture.Stage2(k, n, 5), 2);
        using var a = _fx.StartWorker();
        using var b = _fx.StartWorker();
        await using var coordinator = await _fx.CoordinatorAsync(a, b);
        var (wa, wb) = (coordinator.Workers[0], coordinator.Workers[1]);
        var files = new[] { split1.Shards[0], split1.Shards[1], split2.Shards[0], split2.Shards[1] }
            .Select((m, i) => ModelFile.FromPath(_fx.Save(m, $"tp-stage{i / 2}.rank{i % 2}.onnx"))).ToArray();
        await Task.WhenAll(coordinator.EnsureModelAsync(wa, files[0]), coordinator.EnsureModelAsync(wb, files[1]), coordinator.EnsureModelAsync(wb, files[2]), coordinator.EnsureModelAsync(wa, files[3]));
        var route = new Route(
        [
            new RouteStep(wa, files[0].Hash, ["x"]) { OtherRanks = [new RouteShard(wb, files[1].Hash)] },
            new RouteStep(wb, files[2].Hash, ["h", "x"]) { OtherRanks = [new RouteShard(wa, files[3].Hash)] },
        ]);
        Assert.Equal("a+b -> b+a".Replace("a", wa.Name).Replace("b", wb.Name), route.ToString());

        var batches = Enumerable.Range(0, 6).Select(i => ClusterFixture.Random([3, k], 200 + i)).ToArray();
        var results = await Task.WhenAll(batches.Select(x => coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = x }, ["y"])));
        using var group1 = new TensorParallelGroup(split1.Shards, new SessionOptions { Threads = 1 });
        using var group2 = new TensorParallelGroup(split2.Shards, new SessionOptions { Threads = 1 });
        for (int i = 0; i < batches.Length; i++)
        {
            var h = group1.Run(new Dictionary<string, Tensor> { ["x"] = batches[i] })["h"];
            var y = group2.Run(new Dictionary<string, Tensor> { ["h"] = h, ["x"] = batches[i] })["y"];
            Assert.Equal(y.ToArray<float>(), results[i]["y"].ToArray<float>());
        }

        // A shard sent alone would give its partial result: refused at its first collective.
        var alone = new Route([new RouteStep(wa, files[0].Hash, ["x"])]);
        var e = await Assert.ThrowsAsync<ClusterException>(() => coordinator.RunAsync(alone, new Dictionary<string, Tensor> { ["x"] = batches[0] }, ["h"]));
        Assert.Equal(ClusterErrorCode.InferenceFailed, e.Code);
        Assert.Contains("tensor-parallel shard, but the request runs it without its group", e.Message);
    }

    [Fact]
    public async Task ARankKilledMidRunFailsTheRequestClearlyAndTheOtherRankStopsWaiting()
    {
        var c = ConformanceSet.Get("bert");
        using var w0 = _fx.StartWorker();
        var w1 = _fx.StartWorker();
        try
        {
            var plan = TensorPlan(c, [w0.Address, w1.Address], out string folder);
            await using var coordinator = await _fx.CoordinatorAsync();
            var runner = await TestDeployments.OnPlanAsync(coordinator, plan, folder);
            await runner.RunAsync(c.Inputs);

            // Rank 1's worker freezes, so the request is surely mid-run (rank 0 waits at a collective), then dies.
            w1.Signal("STOP");
            var run = runner.RunAsync(c.Inputs);
            await Task.Delay(500);
            Assert.False(run.IsCompleted);
            w1.Dispose();
            var finished = run.ContinueWith(_ => { }, TaskScheduler.Default);
            Assert.True(await Task.WhenAny(finished, Task.Delay(TimeSpan.FromSeconds(20))) == finished, "the request hung after a rank died");
            var e = Assert.IsType<ClusterException>(run.Exception?.InnerException);
            Assert.True(e.Message.Contains(w1.Address, StringComparison.Ordinal), e.Message);
            Assert.DoesNotContain('\n', e.Message);

            // Rank 0 gave up on its collective because the link to rank 1 closed (or could not be made), long before
            // the 30 s collective timeout.
            Assert.True(w0.WaitForLog($"rank 1 at {w1.Address}", TimeSpan.FromSeconds(10)), w0.Log);
            Assert.False(w0.HasExited);
        }
        finally
        {
            w1.Dispose();
        }
    }

    [Fact]
    public async Task AReplicaWhoseRankDiesMidRunFailsOverToTheOtherReplica()
    {
        // 2 replicas x degree 2 on three workers; the fourth plan node shares the first worker's process.
        var c = ConformanceSet.Get("dense");
        using var w0 = _fx.StartWorker();
        using var w1 = _fx.StartWorker();
        using var w2 = _fx.StartWorker();
        var plan = TensorPlan(c, [w0.Address, w1.Address, w2.Address, w0.Address], out string folder, PlanStrategy.Hybrid, replicas: 2);
        await using var coordinator = await _fx.CoordinatorAsync();
        var runner = await TestDeployments.OnPlanAsync(coordinator, plan, folder);
        Assert.Equal(2, runner.Placements.Count);
        ParallelAgreement.AssertAgrees(c.Expected, await runner.RunAsync(c.Inputs), "dense, 2 replicas x degree 2");

        // A worker in exactly one replica freezes under a request and dies; its share is run again by the other.
        var victim = runner.Placements.SelectMany(r => r.Workers).GroupBy(w => w).First(g => g.Count() == 1).Key;
        var process = new[] { w0, w1, w2 }.Single(w => w.Address == victim.Address);
        process.Signal("STOP");
        var run = runner.RunAsync(c.Inputs);
        await Task.Delay(300);
        process.Dispose();
        ParallelAgreement.AssertAgrees(c.Expected, await run.WaitAsync(TimeSpan.FromSeconds(30)), "dense, after failing over");
    }

    [Fact]
    public void RunWorkersTensorAndRunPlanClusterAgreeWithOneSession()
    {
        var c = ConformanceSet.Get("dense");
        string input = Path.Combine(_fx.Directory, "input.npy");
        NpyFormat.WriteFile(input, c.Inputs["input"]);

        string output = Path.Combine(_fx.Directory, "out-workers");
        var run = CliProcess.Run("run", "--model", c.ModelPath, "--input", "input=" + input, "--output-dir", output, "--workers", "2", "--strategy", "tensor");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("plan: tensor, 1 stage(s), 1 replica(s) on local-0+local-1", run.Stdout);
        ParallelAgreement.AssertAgrees(c.Expected, new Dictionary<string, Tensor> { ["output"] = NpyFormat.ReadFile(Path.Combine(output, "output.npy")) }, "run --workers 2 --strategy tensor");

        using var w0 = _fx.StartWorker();
        using var w1 = _fx.StartWorker();
        var plan = TensorPlan(c, [w0.Address, w1.Address], out string folder);
        string cluster = Path.Combine(_fx.Directory, "cluster.json");
        File.WriteAllText(cluster, plan.Cluster.ToJson());
        output = Path.Combine(_fx.Directory, "out-plan");
        run = CliProcess.Run("run", "--plan", Path.Combine(folder, "plan.json"), "--cluster", cluster, "--token-file", _fx.TokenFile, "--input", "input=" + input, "--output-dir", output);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("plan: tensor, 1 stage(s)", run.Stdout);
        using var group = new TensorParallelGroup(Shards(plan, folder), new SessionOptions { Threads = 1 });
        ConformanceSet.AssertBitIdentical(group.Run(c.Inputs), new Dictionary<string, Tensor> { ["output"] = NpyFormat.ReadFile(Path.Combine(output, "output.npy")) }, "run --plan --cluster, tensor-parallel");

        var refused = CliProcess.Run("run", "--model", c.ModelPath, "--input", "input=" + input, "--output-dir", output, "--workers", "2", "--strategy", "pipeline", "--degree", "2");
        Assert.Equal("tessera: --degree goes with --strategy tensor", refused.Stderr.Trim());
    }

    private static List<Tessera.Onnx.Graph.OnnxModel> Shards(PlanDocument plan, string folder) =>
        [.. plan.Stages.Single().TensorParallel.Shards.Select(s => ModelReader.Load(Path.Combine(folder, s.Model)))];

    private PlanDocument TensorPlan(ConformanceSet.Case c, string[] addresses, out string folder, PlanStrategy strategy = PlanStrategy.Tensor, int replicas = 1)
    {
        var nodes = addresses.Select((a, i) => new ClusterNode { Name = $"n{i}", Address = a, MemoryBytes = 1_000_000_000 }).ToList();
        int degree = addresses.Length / replicas;
        var request = new PlanRequest
        {
            Model = c.Model, InputShapes = c.InputShapes, Cluster = new ClusterDescription { Nodes = nodes }, Strategy = strategy, Degree = degree,
            Stages = 1, Replicas = strategy == PlanStrategy.Tensor ? null : replicas,
        };
        folder = Path.Combine(_fx.Directory, "plan-" + Guid.NewGuid().ToString("N")[..8]);
        var plan = PlanMaterializer.Write(Planner.Plan(request, c.Cost), c.ModelPath, folder);
        Assert.Equal((degree, replicas), (plan.Stages.Single().TensorParallel.Degree, plan.Stages[0].Replicas.Count));
        return plan;
    }
}
