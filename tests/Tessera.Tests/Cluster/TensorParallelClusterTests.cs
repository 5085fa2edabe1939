using Tessera.Cluster.Execution;
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
        var runner = await PlanClusterRunner.StartAsync(coordinator, plan, folder, AddressesOf(plan));
        Assert.Equal(2, runner.Routes.Single().Workers.Count);

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
    public async Task ARankKilledMidRunFailsTheRequestClearlyAndTheOtherRankStopsWaiting()
    {
        var c = ConformanceSet.Get("bert");
        using var w0 = _fx.StartWorker();
        var w1 = _fx.StartWorker();
        try
        {
            var plan = TensorPlan(c, [w0.Address, w1.Address], out string folder);
            await using var coordinator = await _fx.CoordinatorAsync();
            var runner = await PlanClusterRunner.StartAsync(coordinator, plan, folder, AddressesOf(plan));
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

    private static Dictionary<string, string> AddressesOf(PlanDocument plan) => plan.Cluster.Nodes.ToDictionary(n => n.Name, n => n.Address, StringComparer.Ordinal);

    private PlanDocument TensorPlan(ConformanceSet.Case c, string[] addresses, out string folder)
    {
        var nodes = addresses.Select((a, i) => new ClusterNode { Name = $"n{i}", Address = a, MemoryBytes = 1_000_000_000 }).ToList();
        var request = new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = new ClusterDescription { Nodes = nodes }, Strategy = PlanStrategy.Tensor, Degree = addresses.Length };
        folder = Path.Combine(_fx.Directory, "plan-" + Guid.NewGuid().ToString("N")[..8]);
        var plan = PlanMaterializer.Write(Planner.Plan(request, c.Cost), c.ModelPath, folder);
        Assert.Equal(addresses.Length, plan.Stages.Single().TensorParallel.Degree);
        return plan;
    }
}
