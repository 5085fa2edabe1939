using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Onnx.Inference;

/// <summary>What a shape rule sees of one node: its inputs' inferred types and shapes, constant values, and where to put results.</summary>
internal sealed class InferenceContext
{
    private readonly ShapeInference.State _state;

    public InferenceContext(OnnxNode node, int opset, ShapeInference.State state)
    {
        Node = node;
        Opset = opset;
        _state = state;
        Outputs = new (DataType, Dimension[]?)?[node.Outputs.Count];
    }

    public OnnxNode Node { get; }

    public int Opset { get; }

    /// <summary>Inferred (type, shape) per output; null where the rule could not tell.</summary>
    public (DataType Type, Dimension[]? Shape)?[] Outputs { get; }

    public int InputCount => Node.Inputs.Count;

    public bool HasInput(int i) => i < Node.Inputs.Count && Node.Inputs[i].Length > 0;

    public DataType InputType(int i) => HasInput(i) ? _state.TypeOf(Node.Inputs[i]) : DataType.Undefined;

    /// <summary>The input's shape, or null when its rank is unknown.</summary>
    public Dimension[]? InputShape(int i) => HasInput(i) ? _state.ShapeOf(Node.Inputs[i]) : null;

    /// <summary>The input's value when it is known before running (initializer, Constant, or a folded shape computation).</summary>
    public Tensor? InputValue(int i) => HasInput(i) ? _state.ValueOf(Node.Inputs[i]) : null;

    /// <summary>A constant 1-D integer input as longs (e.g. axes, pads, shape), or null when not known.</summary>
    public long[]? InputInts(int i)
    {
        var t = InputValue(i);
        return t?.DataType switch
        {
            DataType.Int64 => t.ToArray<long>(),
            DataType.Int32 => t.ToArray<int>().Select(v => (long)v).ToArray(),
            _ => null,
        };
    }

    public long Int(string name, long fallback) => Node.Attributes.TryGetValue(name, out var a) ? a.Int : fallback;

    public long[]? Ints(string name) => Node.Attributes.TryGetValue(name, out var a) ? a.Ints : null;

    public string String(string name, string fallback) => Node.Attributes.TryGetValue(name, out var a) ? a.String : fallback;

    public NodeAttribute? Attribute(string name) => Node.Attributes.GetValueOrDefault(name);

    public void SetOutput(int i, DataType type, Dimension[]? shape)
    {
        if (i < Outputs.Length)
        {
            Outputs[i] = (type, shape);
        }
    }

    /// <summary>Records a computed value for output <paramref name="i"/> (its type and shape follow from it).</summary>
    public void SetOutputValue(int i, Tensor value)
    {
        SetOutput(i, value.DataType, Dims.FromInts(value.Shape));
        if (i < Node.Outputs.Count)
        {
            _state.SetValue(Node.Outputs[i], value);
        }
    }

    /// <summary>Output 0 has the type and shape of input <paramref name="i"/>.</summary>
    public void PassThrough(int i = 0) => SetOutput(0, InputType(i), InputShape(i));
}
