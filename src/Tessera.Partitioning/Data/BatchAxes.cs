using Tessera.Onnx.Graph;
using Tessera.Partitioning.Cost;

namespace Tessera.Partitioning.Data;

/// <summary>
/// Where a model's batch is: axis 0 of every input (declared symbolic, and the same size in the shapes given), and
/// for each output the one axis that grows with it. Outputs are found by inferring shapes at the planned batch and
/// at one more; an output whose shape inference cannot tell keeps axis 0 when it is declared symbolic there.
/// </summary>
public sealed class BatchAxes
{
    private BatchAxes(int batch, Dictionary<string, int> inputs, Dictionary<string, int> outputs)
    {
        Batch = batch;
        Inputs = inputs;
        Outputs = outputs;
    }

    public int Batch { get; }

    public IReadOnlyDictionary<string, int> Inputs { get; }

    public IReadOnlyDictionary<string, int> Outputs { get; }

    /// <summary>The batch axes, or a <see cref="PartitionException"/> saying why the model cannot be split by batch.</summary>
    public static BatchAxes Detect(OnnxModel model, IReadOnlyDictionary<string, int[]> inputShapes)
    {
        var graph = model.Graph;
        int batch = -1;
        var inputs = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs)
        {
            if (input.Shape is not { Length: > 0 } declared || !inputShapes.TryGetValue(input.Name, out var shape))
            {
                throw new PartitionException($"the model cannot be split by batch: input '{input.Name}' has no first axis to split");
            }

            if (declared[0].IsKnown)
            {
                throw new PartitionException($"the model cannot be split by batch: input '{input.Name}' has a fixed first dimension ({declared[0].Value}), not a batch axis");
            }

            if (batch >= 0 && shape[0] != batch)
            {
                throw new PartitionException($"the model cannot be split by batch: input '{input.Name}' has {shape[0]} rows, another input has {batch}");
            }

            batch = shape[0];
            inputs[input.Name] = 0;
        }

        if (batch < 0) throw new PartitionException("the model cannot be split by batch: it has no inputs");
        var grown = inputShapes.ToDictionary(kv => kv.Key, kv => kv.Value.Select((d, i) => i == 0 ? d + 1 : d).ToArray(), StringComparer.Ordinal);
        var at = new ConcreteShapes(model, model, inputShapes);
        var more = new ConcreteShapes(model, model, grown);
        var outputs = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var output in graph.Outputs)
        {
            outputs[output.Name] = OutputAxis(output, at.ShapeOf(output.Name), more.ShapeOf(output.Name), batch);
        }

        return new BatchAxes(batch, inputs, outputs);
    }

    private static int OutputAxis(ValueInfo output, int[]? at, int[]? more, int batch)
    {
        if (at is not null && more is not null && at.Length == more.Length)
        {
            var changed = Enumerable.Range(0, at.Length).Where(i => at[i] != more[i]).ToList();
            if (changed.Count == 1 && at[changed[0]] == batch && more[changed[0]] == batch + 1) return changed[0];
            throw new PartitionException($"the model cannot be split by batch: output '{output.Name}' ({Format(at)} at batch {batch}, {Format(more)} at batch {batch + 1}) has no axis that follows the batch");
        }

        if (output.Shape is { Length: > 0 } declared && !declared[0].IsKnown) return 0;
        throw new PartitionException($"the model cannot be split by batch: the shape of output '{output.Name}' cannot be inferred and its first axis is not symbolic");
    }

    private static string Format(int[] shape) => "[" + string.Join(",", shape) + "]";
}
