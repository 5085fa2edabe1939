using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Onnx.Inference;

/// <summary>
/// Static type and shape inference. Walks the graph in order and applies a rule per operator; small integer
/// computations on shapes (Shape → Gather → Concat → Reshape, as exporters emit) are evaluated so that shapes
/// stay known through them. Results go to <see cref="OnnxGraph.ValueInfos"/>; what cannot be inferred is left
/// unknown rather than guessed.
/// </summary>
public static class ShapeInference
{
    /// <summary>Infers every value's type and shape. <paramref name="inputShapes"/> fixes symbolic input dimensions.</summary>
    public static void Infer(OnnxModel model, IReadOnlyDictionary<string, int[]>? inputShapes = null)
    {
        var graph = model.Graph;
        var state = new State();
        foreach (var input in graph.Inputs)
        {
            Dimension[]? shape = inputShapes is not null && inputShapes.TryGetValue(input.Name, out var fixedShape)
                ? Dims.FromInts(fixedShape)
                : input.Shape;
            state.Set(input.Name, input.ElementType, shape);
        }

        foreach (var (name, tensor) in graph.Initializers)
        {
            state.Set(name, tensor.DataType, Dims.FromInts(tensor.Shape));
            if (!graph.OverridableInitializers.Contains(name))
            {
                state.SetValue(name, tensor);
            }
        }

        foreach (var node in graph.Nodes)
        {
            var context = new InferenceContext(node, model.OpsetFor(node.Domain), state);
            if (node.Domain.Length == 0 && ShapeRules.TryGet(node.OpType, out var rule))
            {
                try
                {
                    rule(context);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException or NotSupportedException or OverflowException)
                {
                    // A rule that cannot make sense of its inputs leaves the outputs unknown; the engine reports the error at run time.
                }
            }

            for (int i = 0; i < node.Outputs.Count; i++)
            {
                string name = node.Outputs[i];
                if (name.Length == 0 || context.Outputs[i] is not { } result)
                {
                    continue;
                }

                state.Set(name, result.Type, result.Shape);
                if (!graph.Outputs.Any(o => o.Name == name))
                {
                    graph.ValueInfos[name] = new ValueInfo { Name = name, ElementType = result.Type, Shape = result.Shape };
                }
            }
        }

        foreach (var output in graph.Outputs)
        {
            if (state.TypeOf(output.Name) is var type && type != DataType.Undefined && output.ElementType == DataType.Undefined)
            {
                output.ElementType = type;
            }

            var inferred = state.ShapeOf(output.Name);
            if (inferred is not null && (output.Shape is null || (inputShapes is not null && inferred.All(d => d.IsKnown))))
            {
                output.Shape = inferred;
            }
        }
    }

    /// <summary>The inferred shape of a value as integers, when every dimension is known.</summary>
    public static int[]? KnownShape(OnnxGraph graph, string name)
    {
        var info = graph.FindValueInfo(name);
        return info?.HasFullyKnownShape == true ? info.Shape!.Select(d => (int)d.Value!.Value).ToArray() : null;
    }

    internal sealed class State
    {
        private readonly Dictionary<string, (DataType Type, Dimension[]? Shape)> _types = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Tensor> _values = new(StringComparer.Ordinal);

        public void Set(string name, DataType type, Dimension[]? shape) => _types[name] = (type, shape);

        public void SetValue(string name, Tensor value) => _values[name] = value;

        public DataType TypeOf(string name) => _types.TryGetValue(name, out var t) ? t.Type : DataType.Undefined;

        public Dimension[]? ShapeOf(string name) => _types.TryGetValue(name, out var t) ? t.Shape : null;

        public Tensor? ValueOf(string name) => _values.GetValueOrDefault(name);
    }
}
