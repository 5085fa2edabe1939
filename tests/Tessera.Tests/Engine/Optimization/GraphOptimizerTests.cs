using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Engine.Optimization;

public class GraphOptimizerTests
{
    private static OnnxModel Model() => new GraphBuilder()
        .Input("x", DataType.Float32, 2, 3)
        .Node("Identity", ["x"], ["a"], "id")
        .Node("Relu", ["a"], ["y"], "relu")
        .Output("y")
        .Build(13);

    [Fact]
    public void NoneReturnsTheModelAsItIs()
    {
        var model = Model();
        Assert.Same(model, GraphOptimizer.Optimize(model, new SessionOptions { GraphOptimization = GraphOptimizationLevel.None }));
    }

    [Fact]
    public void TheDefaultIsAllAndTheSessionRunsTheOptimizedGraph()
    {
        Assert.Equal(GraphOptimizationLevel.All, new SessionOptions().GraphOptimization);
        var session = new InferenceSession(Model());
        Assert.Equal(1, session.StepCount);
        Assert.Equal(2, session.Model.Graph.Nodes.Count); // the session keeps the caller's model
    }

    [Fact]
    public void ADisabledPassIsSkippedAndAnUnknownNameIsRefused()
    {
        var kept = GraphOptimizer.Optimize(Model(), new SessionOptions { DisabledPasses = ["identity-elimination"] });
        Assert.Contains(kept.Graph.Nodes, n => n.OpType == "Identity");
        var removed = GraphOptimizer.Optimize(Model(), new SessionOptions());
        Assert.DoesNotContain(removed.Graph.Nodes, n => n.OpType == "Identity");

        var e = Assert.Throws<InferenceException>(() => GraphOptimizer.Optimize(Model(), new SessionOptions { DisabledPasses = ["identity-eliminaton"] }));
        Assert.StartsWith("no graph pass is named 'identity-eliminaton'", e.Message);
        Assert.Contains("identity-elimination", e.Message);
    }

    [Fact]
    public void LogsEachRewriteWithThePassName()
    {
        var log = new StringWriter();
        var editor = new GraphEditor(Model(), KernelRegistry.Default, log) { PassName = "identity-elimination" };
        Assert.True(new IdentityEliminationPass().Apply(editor));
        Assert.Contains("tessera: pass identity-elimination: removed Identity 'id' (a → x)", log.ToString());
    }

    [Fact]
    public void ValuesReadInsideSubgraphsAreKept()
    {
        var body = new OnnxGraph { Name = "then" };
        body.Nodes.Add(new OnnxNode { OpType = "Identity", Inputs = { "a" }, Outputs = { "t" } });
        body.Outputs.Add(new ValueInfo { Name = "t", ElementType = DataType.Float32 });
        var model = Model();
        var branch = new OnnxNode { OpType = "If", Inputs = { "cond" }, Outputs = { "z" } };
        branch.Attributes["then_branch"] = new NodeAttribute { Name = "then_branch", Kind = AttributeKind.Graph, Graph = body };
        branch.Attributes["else_branch"] = new NodeAttribute { Name = "else_branch", Kind = AttributeKind.Graph, Graph = body };
        model.Graph.Nodes.Add(branch);
        model.Graph.Inputs.Add(new ValueInfo { Name = "cond", ElementType = DataType.Bool, Shape = [] });
        model.Graph.Outputs.Add(new ValueInfo { Name = "z", ElementType = DataType.Float32 });
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions());
        Assert.Contains(optimized.Graph.Nodes, n => n.OpType == "Identity" && n.Outputs[0] == "a");
    }
}
