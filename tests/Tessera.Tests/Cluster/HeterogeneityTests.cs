using Tessera.Cluster.Deployments;
using Tessera.Cluster.Membership;
using Tessera.Onnx.Graph;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Workers made unequal for real (one in a cgroup with 5 % of a CPU): each measures its speed at start, a data-parallel
/// deployment gives the slow one fewer rows (by those rates, then by the seconds per row it measures), and nodes whose
/// speed is "measure" are planned with the measured rates. Outputs stay bit-identical whatever the split.
/// </summary>
public sealed class HeterogeneityTests : IDisposable
{
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [CpuQuotaFact]
    public async Task ASlowedWorkerMeasuresSlowerGetsFewerRowsAndIsPlannedSlower()
    {
        using var quota = CpuQuota.Create(percent: 5);
        var model = ClusterFixture.Whole(256, 1024, 61);
        model.Graph.Outputs[0].Shape = [Dimension.Named("N"), Dimension.Known(256)]; // batched: rows are split
        string path = _fx.Save(model, "m.onnx");
        using (var fast = _fx.StartWorker())
        using (var slow = WorkerProcess.Under(quota.Prefix, "127.0.0.1:0", _fx.TokenFile, _fx.NewCacheDir()))
        {
            await using var coordinator = await _fx.CoordinatorAsync(fast, slow);
            var (f, s) = (coordinator.Workers[0], coordinator.Workers[1]);
            Assert.True(f.Info.MatrixFlopsPerSecond > 1.5 * s.Info.MatrixFlopsPerSecond, $"fast {f.Info.MatrixFlopsPerSecond} flop/s, slow {s.Info.MatrixFlopsPerSecond}");

            Member[] members = [Measured("fast", f), Measured("slow", s)];
            var calibration = CalibrationProfile.Default;
            Assert.True(members[0].Planned(calibration).Speed > 1.5 * members[1].Planned(calibration).Speed);

            var request = new PlacementRequest(path, model, DeploymentStrategy.Data);
            await using var deployment = await Deployment.StartAsync("m", new Replacement(coordinator, () => members, request), new DeploymentOptions());
            var x = ClusterFixture.Random([32, 256], 62);
            var expected = ClusterFixture.Reference(model, "x", x, "y").ToArray<float>();
            for (int run = 0; run < 6; run++)
            {
                var y = await deployment.RunAsync(new Dictionary<string, Tensor> { ["x"] = x });
                Assert.Equal(expected, y["y"].ToArray<float>());
            }

            var onFast = deployment.Placements.Single(p => p.Workers.Contains(f));
            var onSlow = deployment.Placements.Single(p => p.Workers.Contains(s));
            Assert.True(onFast.Rows > 1.5 * onSlow.Rows, $"rows: fast {onFast.Rows}, slow {onSlow.Rows}");
            Assert.True(onSlow.SecondsPerRow > 1.5 * onFast.SecondsPerRow, $"seconds per row: fast {onFast.SecondsPerRow}, slow {onSlow.SecondsPerRow}");
        }
    }

    [Fact]
    public void ASpeedOfMeasureIsReadWrittenAndRefusedByThePlannerAlone()
    {
        var cluster = ClusterDescription.Parse("""{"nodes": [{"name": "a", "memoryBytes": 1000, "speed": "measure"}, {"name": "b", "memoryBytes": 1000, "speed": 2}]}""");
        Assert.True(cluster.Nodes[0].MeasureSpeed);
        Assert.Equal(2, cluster.Nodes[1].Speed);
        Assert.Contains("\"speed\": \"measure\"", cluster.ToJson());
        var e = Assert.Throws<Tessera.Partitioning.PartitionException>(() => Planner.Plan(new PlanRequest { Model = ClusterFixture.Whole(4, 4, 1), InputShapes = new Dictionary<string, int[]> { ["x"] = [2, 4] }, Cluster = cluster }));
        Assert.Contains("node 'a' has speed \"measure\"", e.Message);
        Assert.Contains("must be a positive number or \"measure\"", Assert.Throws<Tessera.Partitioning.PartitionException>(() => ClusterDescription.Parse("""{"nodes": [{"name": "a", "memoryBytes": 1000, "speed": -1}]}""")).Message);
    }

    private static Member Measured(string name, Tessera.Cluster.Coordinator.WorkerClient worker) =>
        new(new ClusterNode { Name = name, Address = worker.Address, MemoryBytes = 1L << 30, Speed = double.NaN }, worker);
}
