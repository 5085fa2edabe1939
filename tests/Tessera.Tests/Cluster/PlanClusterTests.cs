using Tessera.Cluster.Deployments;
using Tessera.Partitioning;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;
using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Partitioning;
using Tessera.Tests.Partitioning.TensorParallel;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Planner plans run across real worker processes on loopback (<see cref="Deployment"/> and `tessera run
/// --plan --cluster`): pipelines of 2 and 3 stages, with micro-batches in flight, and replicas of pipelines give the
/// single-session outputs bit for bit.
/// </summary>
public sealed class PlanClusterTests : IDisposable
{
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Theory]
    [InlineData("dense")]
    [InlineData("resnet18")]
    public async Task PipelinesOfTwoAndThreeStagesAndReplicasMatchOneSession(string model)
    {
        var c = ConformanceSet.Get(model);
        using var w0 = _fx.StartWorker();
        using var w1 = _fx.StartWorker();
        using var w2 = _fx.StartWorker();
        string[] addresses = [w0.Address, w1.Address, w2.Address];

        foreach (int stages in new[] { 2, 3 })
        {
            var plan = Plan(c, Nodes(addresses), PlanStrategy.Pipeline, out string folder, stages: stages);
            await using var coordinator = await _fx.CoordinatorAsync();
            var runner = await TestDeployments.OnPlanAsync(coordinator, plan, folder);
            Assert.Equal(stages, runner.Placements.Single().Workers.Count);
            ConformanceSet.AssertBitIdentical(c.Expected, await runner.RunAsync(c.Inputs), $"{model}, {stages} stages, micro-batches");
            await AssertReceivedIntoAsync(c, runner, $"{model}, {stages} stages, micro-batches");
            var whole = await TestDeployments.OnPlanAsync(coordinator, plan, folder, new DeploymentOptions { MicroBatchesPerStage = 1 });
            ConformanceSet.AssertBitIdentical(c.Expected, await whole.RunAsync(c.Inputs), $"{model}, {stages} stages, whole batch");
            await AssertReceivedIntoAsync(c, whole, $"{model}, {stages} stages, whole batch");
        }

        // Data x pipeline: 2 replicas of 2 stages on 4 plan nodes, the fourth sharing the first worker's process.
        var hybrid = Plan(c, Nodes([.. addresses, w0.Address]), PlanStrategy.Hybrid, out string hybridFolder, stages: 2, replicas: 2);
        Assert.Equal((2, 2), (hybrid.Stages.Count, hybrid.Stages[0].Replicas.Count));
        await using (var coordinator = await _fx.CoordinatorAsync())
        {
            var runner = await TestDeployments.OnPlanAsync(coordinator, hybrid, hybridFolder);
            Assert.Equal(2, runner.Placements.Count);
            ConformanceSet.AssertBitIdentical(c.Expected, await runner.RunAsync(c.Inputs), $"{model}, 2 replicas x 2 stages");
        }
    }

    /// <summary>
    /// Run twice into the caller's own tensors (first filled with garbage): the result holds those very tensors, with
    /// the single session's bits in them, so a caller running batch after batch allocates no outputs.
    /// </summary>
    private static async Task AssertReceivedIntoAsync(ConformanceSet.Case c, Deployment runner, string what)
    {
        var into = c.Expected.ToDictionary(kv => kv.Key, kv => Tensor.Allocate(kv.Value.DataType, kv.Value.Shape), StringComparer.Ordinal);
        for (int round = 0; round < 2; round++)
        {
            foreach (var t in into.Values) t.Bytes.Fill(0xA5);
            var got = await runner.RunAsync(c.Inputs, into: into);
            Assert.All(into, kv => Assert.Same(kv.Value, got[kv.Key]));
            ConformanceSet.AssertBitIdentical(c.Expected, got, $"{what}, into the caller's tensors");
        }
    }

    /// <summary>
    /// A planner's hybrid plan, 2 stages each a tensor-parallel group of degree 2, on 4 worker processes: every
    /// rank's shard on its own worker, stage 0's rank 0 forwarding to stage 1's rank 0, which relays to its peer.
    /// Bit-identical to the same plan run in process (the collectives sum in rank order either way).
    /// </summary>
    [Theory]
    [InlineData("gpt")]
    [InlineData("bert")]
    public async Task AHybridPlanOfTwoStagesOfDegreeTwoOnFourWorkersEqualsTheInProcessPlan(string model)
    {
        var c = ConformanceSet.Get(model);
        using var w0 = _fx.StartWorker();
        using var w1 = _fx.StartWorker();
        using var w2 = _fx.StartWorker();
        using var w3 = _fx.StartWorker();
        var plan = Plan(c, Nodes([w0.Address, w1.Address, w2.Address, w3.Address]), PlanStrategy.Hybrid, out string folder, stages: 2, replicas: 1, degree: 2);
        Assert.Equal((2, 2), (plan.Stages.Count, plan.Stages[0].TensorParallel.Shards.Count));

        await using var coordinator = await _fx.CoordinatorAsync();
        var runner = await TestDeployments.OnPlanAsync(coordinator, plan, folder);
        Assert.Equal(4, runner.Placements.Single().Workers.Count);
        var distributed = await runner.RunAsync(c.Inputs);

        using var local = InProcessPlan.Load(Path.Combine(folder, "plan.json"));
        ConformanceSet.AssertBitIdentical(local.Run(c.Inputs), distributed, $"{model}, 1x2x2 on 4 workers against the in-process plan");
        ParallelAgreement.AssertAgrees(c.Expected, distributed, $"{model}, 1x2x2 on 4 workers");
    }

    [Fact]
    public void RunPlanClusterThroughTheCliMatchesOneSessionAndRefusesAWrongToken()
    {
        var c = ConformanceSet.Get("dense");
        using var w0 = _fx.StartWorker();
        using var w1 = _fx.StartWorker();
        var nodes = Nodes([w0.Address, w1.Address]);
        Plan(c, nodes, PlanStrategy.Pipeline, out string folder, stages: 2);
        string cluster = Path.Combine(_fx.Directory, "cluster.json");
        File.WriteAllText(cluster, new ClusterDescription { Nodes = nodes }.ToJson());
        string input = Path.Combine(_fx.Directory, "input.npy");
        NpyFormat.WriteFile(input, c.Inputs["input"]);
        string output = Path.Combine(_fx.Directory, "out");

        var run = CliProcess.Run("run", "--plan", Path.Combine(folder, "plan.json"), "--cluster", cluster, "--token-file", _fx.TokenFile, "--input", "input=" + input, "--output-dir", output);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("pipeline, 2 stage(s)", run.Stdout);
        ConformanceSet.AssertBitIdentical(c.Expected, new Dictionary<string, Tensor> { ["output"] = NpyFormat.ReadFile(Path.Combine(output, "output.npy")) }, "run --plan --cluster");

        string wrong = Path.Combine(_fx.Directory, "wrong-token");
        File.WriteAllText(wrong, "not-the-token-of-this-cluster");
        var refused = CliProcess.Run("run", "--plan", Path.Combine(folder, "plan.json"), "--cluster", cluster, "--token-file", wrong, "--input", "input=" + input, "--output-dir", output);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.StartsWith("tessera: ", refused.Stderr);
        Assert.Single(refused.Stderr.Trim().Split('\n'));
    }

    /// <summary>`run --cluster C.json --strategy`: the model placed over the cluster file's workers (one by a DNS name) without a plan file.</summary>
    [Fact]
    public void RunClusterWithAStrategyMatchesOneSessionAndAClusterWithNoWorkerFailsInOneLine()
    {
        var c = ConformanceSet.Get("dense");
        using var w0 = _fx.StartWorker();
        using var w1 = _fx.StartWorker();
        string cluster = Path.Combine(_fx.Directory, "cluster.json");
        int port = int.Parse(w1.Address.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(cluster, $$"""{"nodes": [{"name": "a", "address": "{{w0.Address}}", "memoryBytes": 1000000000}, {"name": "b", "address": "dns:localhost:{{port}}", "memoryBytes": 1000000000}]}""");
        string input = Path.Combine(_fx.Directory, "input.npy");
        NpyFormat.WriteFile(input, c.Inputs["input"]);
        string output = Path.Combine(_fx.Directory, "out");
        var run = CliProcess.Run("run", "--model", c.ModelPath, "--cluster", cluster, "--strategy", "pipeline", "--token-file", _fx.TokenFile, "--input", "input=" + input, "--output-dir", output);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("pipeline, 2 stage(s), 1 replica(s)", run.Stdout);
        ConformanceSet.AssertBitIdentical(c.Expected, new Dictionary<string, Tensor> { ["output"] = NpyFormat.ReadFile(Path.Combine(output, "output.npy")) }, "run --cluster --strategy pipeline");

        File.WriteAllText(cluster, """{"nodes": [{"name": "gone", "address": "127.0.0.1:1", "memoryBytes": 1000000000}]}""");
        var refused = CliProcess.Run("run", "--model", c.ModelPath, "--cluster", cluster, "--strategy", "data", "--token-file", _fx.TokenFile, "--input", "input=" + input, "--output-dir", output);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.StartsWith($"tessera: no worker of {cluster} answered", refused.Stderr.Split('\n').Last(l => l.Length > 0));
        Assert.DoesNotContain("   at ", refused.Stderr);
    }

    [Theory]
    [InlineData("pipeline")]
    [InlineData("auto")]
    public void RunWorkersWithAPlanMatchesOneSession(string strategy)
    {
        var c = ConformanceSet.Get("dense");
        string input = Path.Combine(_fx.Directory, "input.npy");
        NpyFormat.WriteFile(input, c.Inputs["input"]);
        string output = Path.Combine(_fx.Directory, "out");
        var run = CliProcess.Run("run", "--model", c.ModelPath, "--input", "input=" + input, "--output-dir", output, "--workers", "2", "--strategy", strategy);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("plan: ", run.Stdout);
        if (strategy == "pipeline") Assert.Contains("pipeline, 2 stage(s), 1 replica(s) on local-0 -> local-1", run.Stdout);
        ConformanceSet.AssertBitIdentical(c.Expected, new Dictionary<string, Tensor> { ["output"] = NpyFormat.ReadFile(Path.Combine(output, "output.npy")) }, $"run --workers 2 --strategy {strategy}");
    }

    private static List<ClusterNode> Nodes(string[] addresses) =>
        [.. addresses.Select((a, i) => new ClusterNode { Name = $"n{i}", Address = a, MemoryBytes = 1_000_000_000, Speed = 1.0 + (0.25 * i) })];

    private PlanDocument Plan(ConformanceSet.Case c, List<ClusterNode> nodes, PlanStrategy strategy, out string folder, int? stages = null, int? replicas = null, int? degree = null)
    {
        var request = new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = new ClusterDescription { Nodes = nodes }, Strategy = strategy, Stages = stages, Replicas = replicas, Degree = degree };
        folder = Path.Combine(_fx.Directory, "plan-" + Guid.NewGuid().ToString("N")[..8]);
        return PlanMaterializer.Write(Planner.Plan(request, c.Cost), c.ModelPath, folder);
    }
}
