using Tessera.Partitioning.Execution;
using Tessera.Partitioning.Planning;

namespace Tessera.Tests.Partitioning;

/// <summary>
/// The rule: on every conformance model, pipeline plans (2, 3, 4 stages on nodes of unequal speed) and data-parallel
/// plans (3 replicas of unequal speed) give outputs bit-identical to the single-node session. Each plan is written
/// to disk and run by <see cref="LocalPlanRunner"/>, one session per stage, as the cluster runs it.
/// </summary>
public sealed class ParityTests
{
    public static TheoryData<string, int> PipelineRows()
    {
        var rows = new TheoryData<string, int>();
        foreach (string model in ConformanceSet.Names)
        {
            foreach (int stages in new[] { 2, 3, 4 }) rows.Add(model, stages);
        }

        return rows;
    }

    public static TheoryData<string> Models() => new(ConformanceSet.Names);

    [Theory]
    [MemberData(nameof(PipelineRows))]
    public void PipelineMatchesSingleNode(string model, int stages)
    {
        var c = ConformanceSet.Get(model);
        var cluster = Clusters.WithSpeeds(1.0, 2.0, 1.5, 1.25);
        var request = new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = cluster, Strategy = PlanStrategy.Pipeline, Stages = stages };
        var result = Planner.Plan(request, c.Cost);
        Assert.Equal(("pipeline", stages), (result.Chosen.Strategy, result.Chosen.Stages));

        using var folder = new TempFolder();
        PlanMaterializer.Write(result, c.ModelPath, folder.Path);
        var runner = LocalPlanRunner.Load(folder.File("plan.json"));
        ConformanceSet.AssertBitIdentical(c.Expected, runner.Run(c.Inputs), $"{model}, {stages} stages");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void DataParallelMatchesSingleNode(string model)
    {
        var c = ConformanceSet.Get(model);
        var cluster = Clusters.WithSpeeds(1.0, 2.0, 3.5);
        var request = new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = cluster, Strategy = PlanStrategy.Data, Replicas = 3 };
        var result = Planner.Plan(request, c.Cost);
        Assert.Equal(("data", 3), (result.Chosen.Strategy, result.Chosen.Replicas));
        var weights = result.Chosen.ReplicaWeights;
        Assert.True(weights.Distinct().Count() == 3, $"replica weights should follow the unequal speeds: {string.Join(", ", weights)}");

        using var folder = new TempFolder();
        PlanMaterializer.Write(result, c.ModelPath, folder.Path);
        var runner = LocalPlanRunner.Load(folder.File("plan.json"));
        ConformanceSet.AssertBitIdentical(c.Expected, runner.Run(c.Inputs), $"{model}, 3 replicas");
    }
}
