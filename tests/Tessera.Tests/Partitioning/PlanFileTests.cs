using System.Text.Json.Nodes;
using Tessera.Partitioning;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;

namespace Tessera.Tests.Partitioning;

public sealed class PlanFileTests
{
    private static readonly Dictionary<string, int[]> s_shapes = new() { ["x"] = [4, 64] };

    private static PlanResult PlanChain(ClusterDescription cluster, int stages = 3) =>
        Planner.Plan(new PlanRequest { Model = LayerChain.Build(6, 64, "batch"), InputShapes = s_shapes, Cluster = cluster, Strategy = PlanStrategy.Pipeline, Stages = stages });

    private static string WriteChainPlan(TempFolder folder)
    {
        string modelPath = folder.File("chain.onnx");
        Tessera.Onnx.Io.ModelWriter.Save(LayerChain.Build(6, 64, "batch"), modelPath);
        var result = Planner.Plan(new PlanRequest { Model = Tessera.Onnx.Io.ModelReader.Load(modelPath), InputShapes = s_shapes, Cluster = Clusters.WithSpeeds(1, 2, 1), Strategy = PlanStrategy.Pipeline, Stages = 3 });
        PlanMaterializer.Write(result, modelPath, folder.File("plan"));
        return folder.File("plan/plan.json");
    }

    [Fact]
    public void PlanRoundTripsAndIsDeterministic()
    {
        using var one = new TempFolder();
        using var two = new TempFolder();
        string a = File.ReadAllText(WriteChainPlan(one));
        var plan = PlanReader.Parse(a);
        Assert.Equal(a.Replace(one.Path, "<dir>"), PlanWriter.Serialize(plan).Replace(one.Path, "<dir>"));
        Assert.Equal(3, plan.Stages.Count);
        Assert.Equal(plan.Stages[0].Outputs, plan.Stages[1].Inputs);
        Assert.Equal(["x"], plan.Stages[0].Inputs);

        string b = File.ReadAllText(WriteChainPlan(two));
        Assert.Equal(a.Replace(one.Path, "<dir>"), b.Replace(two.Path, "<dir>"));
        PlanReader.VerifyFiles(plan, one.File("plan"));
    }

    [Fact]
    public void HybridPlanRoundTripsAndIsDeterministic()
    {
        string Write(TempFolder folder)
        {
            string modelPath = folder.File("chain.onnx");
            Tessera.Onnx.Io.ModelWriter.Save(LayerChain.Build(6, 64, "batch"), modelPath);
            var result = Planner.Plan(new PlanRequest { Model = Tessera.Onnx.Io.ModelReader.Load(modelPath), InputShapes = s_shapes, Cluster = Clusters.WithSpeeds(1, 2, 1, 1), Strategy = PlanStrategy.Hybrid, Stages = 2, Degree = 2 });
            PlanMaterializer.Write(result, modelPath, folder.File("plan"));
            return folder.File("plan/plan.json");
        }

        using var one = new TempFolder();
        using var two = new TempFolder();
        string a = File.ReadAllText(Write(one));
        var plan = PlanReader.Parse(a);
        Assert.Equal(a.Replace(one.Path, "<dir>"), PlanWriter.Serialize(plan).Replace(one.Path, "<dir>"));
        Assert.Equal("hybrid", plan.Strategy);
        Assert.Equal(plan.Stages[0].Outputs, plan.Stages[1].Inputs);
        foreach (var stage in plan.Stages)
        {
            Assert.Equal(2, stage.TensorParallel.Degree);
            Assert.Equal([$"stage{stage.Index}.rank0.onnx", $"stage{stage.Index}.rank1.onnx"], stage.TensorParallel.Shards.Select(s => s.Model));
            Assert.Equal((stage.TensorParallel.Shards[0].Model, stage.TensorParallel.Shards[0].Sha256), (stage.Model, stage.Sha256));
            Assert.Equal(stage.Nodes, stage.Replicas.Single().Nodes);
        }

        Assert.Equal(a.Replace(one.Path, "<dir>"), File.ReadAllText(Write(two)).Replace(two.Path, "<dir>"));
        PlanReader.VerifyFiles(plan, one.File("plan"));
        File.AppendAllText(one.File("plan/stage1.rank1.onnx"), "x");
        var e = Assert.Throws<PartitionException>(() => PlanReader.VerifyFiles(plan, one.File("plan")));
        Assert.Contains("stage1.rank1.onnx' has SHA-256", e.Message);
    }

    [Fact]
    public void StageFilesPassTheOnnxChecker()
    {
        var c = ConformanceSet.Get("bert");
        var result = Planner.Plan(new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = Clusters.WithSpeeds(1, 1, 1), Strategy = PlanStrategy.Pipeline, Stages = 3 }, c.Cost);
        using var folder = new TempFolder();
        var plan = PlanMaterializer.Write(result, c.ModelPath, folder.Path);
        Assert.Contains(plan.Stages[1].Inputs, plan.Stages[1].Outputs.Contains); // attention mask values skip stages: forwarded
        OnnxChecker.AssertValid(plan.Stages.Select(s => folder.File(s.Model)));
    }

    [Fact]
    public void ChangedSubModelIsRefused()
    {
        using var folder = new TempFolder();
        string path = WriteChainPlan(folder);
        File.AppendAllText(folder.File("plan/stage1.onnx"), "x");
        var e = Assert.Throws<PartitionException>(() => InProcessPlan.Load(path));
        Assert.Contains("stage1.onnx' has SHA-256", e.Message);
        Assert.EndsWith("the plan folder was changed", e.Message);
    }

    public static TheoryData<string, string> BadPlans() => new()
    {
        { "not json", "plan file 'p' is not valid: " },
        { "{}", "missing required properties" },
        { "$.version=2", "version 2 is not supported" },
        { "$.stages[1].inputs[0]=\"nowhere\"", "stage 1 reads 'nowhere', which is not among stage 0's outputs" },
        { "$.stages[0].sha256=\"abc\"", "stage 0.sha256 must be 64 lowercase hex digits" },
        { "$.stages[0].model=\"../x.onnx\"", "stage 0.model must be a file name inside the plan folder" },
        { "$.stages[2].replicas[0].nodes[0]=\"zz\"", "runs on node 'zz', which the plan's cluster does not have" },
        { "$.stages[0].index=5", "stage 0 has index 5" },
        { "$.stages[0].parameterBytes=\"many\"", "could not be converted to an integer at $.stages[0].parameterBytes" },
        { "$.strategy=\"magic\"", "strategy 'magic' is not one of" },
        { "$.extra=1", "extra" },
    };

    [Theory]
    [MemberData(nameof(BadPlans))]
    public void BadPlanFilesGiveOneLineErrors(string edit, string expected)
    {
        string json = edit;
        if (edit.StartsWith("$.", StringComparison.Ordinal))
        {
            var plan = JsonNode.Parse(PlanWriter.Serialize(Fake(PlanChain(Clusters.WithSpeeds(1, 1, 1)))))!;
            int eq = edit.IndexOf('=');
            Set(plan, edit[2..eq], JsonNode.Parse(edit[(eq + 1)..]));
            json = plan.ToJsonString();
        }

        var e = Assert.Throws<PartitionException>(() => PlanReader.Parse(json, "p"));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    public static TheoryData<string, string> BadClusters() => new()
    {
        { "{\"nodes\":[]}", "\"nodes\" must list at least one node" },
        { "{\"nodes\":[{\"name\":\"a\",\"memoryBytes\":-5}]}", "nodes[0].memoryBytes must be a positive number of bytes (node 'a')" },
        { "{\"nodes\":[{\"name\":\"a\",\"memoryBytes\":5},{\"name\":\"a\",\"memoryBytes\":5}]}", "nodes[1].name 'a' is used by another node" },
        { "{\"nodes\":[{\"name\":\"a\",\"memoryBytes\":\"lots\"}]}", "at $.nodes[0].memoryBytes" },
        { "{\"nodes\":[{\"name\":\"a\"}]}", "memoryBytes" },
        { "{\"nodes\":[{\"name\":\"a\",\"memoryBytes\":5,\"speed\":0}]}", "nodes[0].speed must be a positive number" },
        { "{\"nodes\":[{\"name\":\"a\",\"memoryBytes\":5,\"colour\":1}]}", "colour" },
        { "{\"nodes\":[{\"name\":\"a\",\"memoryBytes\":5}],\"link\":{\"bandwidthBytesPerSecond\":0}}", "link.bandwidthBytesPerSecond must be a positive number" },
        { "[1,2", "cluster file 'c' is not valid" },
    };

    [Theory]
    [MemberData(nameof(BadClusters))]
    public void BadClusterFilesGiveOneLineErrors(string json, string expected)
    {
        var e = Assert.Throws<PartitionException>(() => ClusterDescription.Parse(json, "c"));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TheBriefsClusterExampleParses()
    {
        var cluster = ClusterDescription.Parse("""
            {"nodes":[{"name":"a","address":"127.0.0.1:7001","memoryBytes":200000000,"speed":1.0,"threads":1}],
             "link":{"bandwidthBytesPerSecond":1.25e9,"latencySeconds":0.0002}}
            """);
        Assert.Equal(("a", 200_000_000L, 1.25e9), (cluster.Nodes[0].Name, cluster.Nodes[0].MemoryBytes, cluster.Link.BandwidthBytesPerSecond));
    }

    // A plan document for the chain without writing files (the reader does not look at them).
    private static PlanDocument Fake(PlanResult result)
    {
        using var folder = new TempFolder();
        string modelPath = folder.File("m.onnx");
        Tessera.Onnx.Io.ModelWriter.Save(result.Cost.SourceModel, modelPath);
        return PlanMaterializer.Write(result, modelPath, folder.File("plan"));
    }

    private static void Set(JsonNode root, string path, JsonNode? value)
    {
        var parts = path.Replace("]", string.Empty).Split('.', '[');
        JsonNode node = root;
        for (int i = 0; i < parts.Length - 1; i++) node = int.TryParse(parts[i], out int k) ? node[k]! : node[parts[i]]!;
        string last = parts[^1];
        if (int.TryParse(last, out int index)) node.AsArray()[index] = value;
        else node.AsObject()[last] = value;
    }
}
