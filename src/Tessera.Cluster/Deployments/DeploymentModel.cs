using Tessera.Cluster.Transport;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Plans;
using Tessera.Tensors;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// What a deployment runs, seen from outside: the model's input and output names, and where its batch is (the axis
/// of each input and output along which rows are split and joined), or no batch axes, when requests go whole to one
/// placement.
/// </summary>
public sealed class DeploymentModel
{
    public DeploymentModel(IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyDictionary<string, int>? inputAxes, IReadOnlyDictionary<string, int>? outputAxes)
    {
        Inputs = inputs;
        Outputs = outputs;
        InputAxes = inputAxes;
        OutputAxes = outputAxes;
        LeadingOutputs = outputAxes is not null && outputs.All(o => outputAxes[o] == 0);
    }

    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    public IReadOnlyDictionary<string, int>? InputAxes { get; }

    public IReadOnlyDictionary<string, int>? OutputAxes { get; }

    /// <summary>True when every output is batched on axis 0, so pieces can be read into their rows of the whole.</summary>
    public bool LeadingOutputs { get; }

    /// <summary>A whole model: batched on axis 0 when every input and output declares a first dimension that is not fixed.</summary>
    public static DeploymentModel ForModel(OnnxModel model)
    {
        var graph = model.Graph;
        bool leading = graph.Inputs.Count > 0 && graph.Inputs.Concat(graph.Outputs).All(v => v.Shape is [{ IsKnown: false }, ..]);
        return Leading([.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)], leading);
    }

    /// <summary>
    /// A plan: its data-parallel axes; without them, axis 0 when stage 0 declares every model input and the last stage
    /// every model output with a symbolic first dimension (so a pipeline can be fed micro-batches), else none.
    /// </summary>
    public static DeploymentModel ForPlan(PlanDocument plan, string directory)
    {
        if (plan.DataParallel is { } data) return new DeploymentModel(plan.Inputs, plan.Outputs, data.InputAxes, data.OutputAxes);
        if (plan.Stages.Count < 2) return new DeploymentModel(plan.Inputs, plan.Outputs, null, null);
        var first = ModelReader.Load(Path.Combine(directory, plan.Stages[0].Model)).Graph;
        var last = ModelReader.Load(Path.Combine(directory, plan.Stages[^1].Model)).Graph;
        bool inputs = plan.Inputs.All(n => first.Inputs.FirstOrDefault(i => i.Name == n) is { Shape: [{ IsKnown: false }, ..] });
        bool outputs = plan.Outputs.All(n => last.Outputs.FirstOrDefault(o => o.Name == n) is { Shape: [{ IsKnown: false }, ..] });
        return Leading(plan.Inputs, plan.Outputs, inputs && outputs);
    }

    private static DeploymentModel Leading(IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, bool leading) => leading
        ? new DeploymentModel(inputs, outputs, inputs.ToDictionary(n => n, _ => 0, StringComparer.Ordinal), outputs.ToDictionary(n => n, _ => 0, StringComparer.Ordinal))
        : new DeploymentModel(inputs, outputs, null, null);

    /// <summary>
    /// Checks the request's names and returns its rows along the batch axes; 0 when the model has none or the inputs
    /// do not agree on them (the request then goes whole to one placement, which computes it as one session would).
    /// </summary>
    public int Rows(IReadOnlyDictionary<string, Tensor> inputs)
    {
        // Loops, not LINQ: this runs for every batch (issue 19).
        foreach (string name in inputs.Keys)
        {
            if (!IsInput(name)) throw new ClusterException(ClusterErrorCode.BadRequest, $"the model has no input named '{name}'; its inputs are: {string.Join(", ", Inputs)}");
        }

        foreach (string name in Inputs)
        {
            if (!inputs.ContainsKey(name)) throw new ClusterException(ClusterErrorCode.BadRequest, $"input '{name}' is missing");
        }

        if (InputAxes is null) return 0;

        int rows = -1;
        foreach (var (name, tensor) in inputs)
        {
            int axis = InputAxes[name];
            if (axis >= tensor.Rank || (rows >= 0 && tensor.Shape[axis] != rows)) return 0;
            rows = tensor.Shape[axis];
        }

        return Math.Max(rows, 0);
    }

    private bool IsInput(string name)
    {
        foreach (string input in Inputs)
        {
            if (string.Equals(input, name, StringComparison.Ordinal)) return true;
        }

        return false;
    }
}
