using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>Per-operator rules: how a node maps the sharded axis of its inputs to its outputs, or why it cannot.</summary>
internal sealed partial class ShardingPass
{
    private static readonly HashSet<string> s_unary = new(StringComparer.Ordinal)
    {
        "Relu", "Gelu", "Erf", "Tanh", "Sigmoid", "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Softplus", "Softsign",
        "Elu", "Selu", "Celu", "LeakyRelu", "HardSigmoid", "HardSwish", "Mish", "Sin", "Cos", "Identity", "Cast", "Floor",
        "Ceil", "Round", "Sign", "Not", "IsNaN", "Dropout", "ThresholdedRelu",
    };

    private static readonly HashSet<string> s_broadcasting = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "Where", "Clip", "Equal", "Less", "Greater", "LessOrEqual",
        "GreaterOrEqual", "And", "Or", "Xor", "PRelu", "Sum", "Mean",
    };

    private static bool IsUnary(string opType) => s_unary.Contains(opType);

    private static bool IsBroadcasting(string opType) => s_broadcasting.Contains(opType);

    private void ApplyRule(OnnxNode node)
    {
        if (node.Domain.Length != 0)
        {
            Fail($"{Describe(node)} (domain {node.Domain}) has no tensor-parallel rule");
        }

        switch (node.OpType)
        {
            case var op when IsUnary(op) || IsBroadcasting(op):
                Elementwise(node, batchOnly: false);
                break;
            case "MatMul":
                Elementwise(node, batchOnly: true);
                break;
            case "Softmax" or "LogSoftmax":
                Softmax(node);
                break;
            case "Transpose":
                Transpose(node);
                break;
            case "Reshape":
                Reshape(node);
                break;
            case "Split":
                Split(node);
                break;
            default:
                Fail($"{Describe(node)} reads a split value and has no tensor-parallel rule");
                break;
        }
    }

    /// <summary>
    /// Broadcasting element-wise operators (and MatMul over its batch axes): every sharded input must be split along
    /// the same output axis; every other input must broadcast along it (extent 1, or too few axes).
    /// </summary>
    private void Elementwise(OnnxNode node, bool batchOnly)
    {
        int outRank = _index.RankOf(node.Outputs[0]) ?? Fail<int>($"the rank of {Describe(node)}'s output is unknown");
        int? axis = null;
        foreach (var input in node.Inputs.Where(_axis.ContainsKey))
        {
            int rank = _index.RankOf(input) ?? Fail<int>($"the rank of '{input}' is unknown");
            int aligned = _axis[input] + outRank - rank;
            if ((axis is { } a && a != aligned) || (batchOnly && _axis[input] >= rank - 2))
            {
                Fail($"{Describe(node)} combines values split along different axes");
            }

            axis = aligned;
        }

        foreach (var input in node.Inputs.Where(i => i.Length > 0 && !_axis.ContainsKey(i)))
        {
            var shape = _index.ShapeOf(input) ?? Fail<Dimension[]>($"the shape of '{input}' (read by {Describe(node)}) is unknown");
            int at = axis!.Value - (outRank - shape.Length);
            if (at < 0 || (shape[at].IsKnown && shape[at].Value == 1))
            {
                continue;
            }

            if (ColumnFeeding(input) is { } column)
            {
                Need(column);
            }

            Fail($"{Describe(node)} combines a split value with the whole value '{input}'");
        }

        if (node.OpType == "Dropout" && node.Outputs.Count > 1 && node.Outputs[1].Length > 0)
        {
            SetSharded(node.Outputs[1], axis!.Value);
        }

        SetSharded(node.Outputs[0], axis!.Value);
    }

    private void Softmax(OnnxNode node)
    {
        int axis = _axis[node.Inputs[0]];
        int rank = _index.RankOf(node.Inputs[0]) ?? Fail<int>($"the rank of {Describe(node)}'s input is unknown");
        int opset = _index.Model.OpsetFor(node.Domain);
        long along = node.Attributes.GetValueOrDefault("axis")?.Int ?? (opset >= 13 ? -1 : 1);
        if (along < 0) along += rank;

        // Before opset 13 the operator flattens every axis from `axis` on into one.
        bool local = opset >= 13 ? along != axis : axis < along;
        if (!local)
        {
            Fail($"{Describe(node)} normalises along the split axis");
        }

        SetSharded(node.Outputs[0], axis);
    }

    private void Transpose(OnnxNode node)
    {
        int axis = _axis[node.Inputs[0]];
        int rank = _index.RankOf(node.Inputs[0]) ?? Fail<int>($"the rank of {Describe(node)}'s input is unknown");
        long[] perm = node.Attributes.GetValueOrDefault("perm")?.Ints is { Length: > 0 } p ? p : Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        int moved = Array.IndexOf(perm, (long)axis);
        if (moved < 0)
        {
            Fail($"{Describe(node)} has an invalid perm");
        }

        SetSharded(node.Outputs[0], moved);
    }

    /// <summary>
    /// Two Reshapes keep heads local: [.., heads·dh] → [.., heads, dh] (the split axis becomes the heads axis) and
    /// back [.., heads, dh] → [.., heads·dh]. The target becomes [0, .., 0, heads/T, dh] and [0, .., 0, -1].
    /// </summary>
    private void Reshape(OnnxNode node)
    {
        string data = node.Inputs[0];
        int axis = _axis[data];
        var input = _index.ShapeOf(data);
        var output = _index.ShapeOf(node.Outputs[0]);
        if (input is null || output is null || node.Attributes.GetValueOrDefault("allowzero")?.Int is 1)
        {
            Fail($"{Describe(node)} reshapes a split value to a shape not known before running");
        }

        int r = input!.Length;
        bool samePrefix(int count) => output!.Length >= count && Enumerable.Range(0, count).All(i => GraphIndex.SameDimension(input[i], output[i]));
        if (axis == r - 1 && output!.Length == r + 1 && input[r - 1].IsKnown && output[r - 1].IsKnown && output[r].IsKnown && samePrefix(r - 1))
        {
            long heads = output[r - 1].Value!.Value, headSize = output[r].Value!.Value;
            if (heads * headSize != input[r - 1].Value)
            {
                Fail($"{Describe(node)} does not split the last axis into [heads, head size]");
            }

            if (heads % _degree != 0)
            {
                Fail($"{heads} heads are not divisible by {_degree}");
            }

            _region.Heads = (int)heads;
            _region.ReshapeShapes[node] = [.. Enumerable.Repeat(0L, r - 1), heads / _degree, headSize];
            SetSharded(node.Outputs[0], r - 1);
            return;
        }

        if (axis == r - 2 && output!.Length == r - 1 && input[r - 1].IsKnown && samePrefix(r - 2))
        {
            _region.ReshapeShapes[node] = [.. Enumerable.Repeat(0L, r - 2), -1];
            SetSharded(node.Outputs[0], r - 2);
            return;
        }

        Fail($"{Describe(node)} reshapes a split value other than into or out of heads");
    }

    private void Split(OnnxNode node)
    {
        string data = node.Inputs[0];
        int axis = _axis[data];
        int rank = _index.RankOf(data) ?? Fail<int>($"the rank of {Describe(node)}'s input is unknown");
        long along = node.Attributes.GetValueOrDefault("axis")?.Int ?? 0;
        if (along < 0) along += rank;
        if (along != axis)
        {
            foreach (var output in node.Outputs.Where(o => o.Length > 0)) SetSharded(output, axis);
            return;
        }

        // Splitting along the split axis works only on a column layer's fresh output: its columns are then taken
        // per segment (rank r holds block r of every segment), as for a fused QKV projection.
        if (!_fresh.TryGetValue(data, out var column) || _index.ConsumersOf(data).Count != 1)
        {
            Fail($"{Describe(node)} splits along the split axis of a value other than a layer's own output");
        }

        long[]? sizes = node.Inputs.Count > 1 && node.Inputs[1].Length > 0
            ? _index.ConstantOf(node.Inputs[1])?.ToArray<long>() ?? Fail<long[]>($"{Describe(node)} has sizes not known before running")
            : node.Attributes.GetValueOrDefault("split")?.Ints;
        bool explicitSizes = sizes is not null;
        sizes ??= Enumerable.Repeat((long)column!.N / node.Outputs.Count, node.Outputs.Count).ToArray();
        if (sizes.Sum() != column!.N || sizes.Any(s => s % _degree != 0))
        {
            Fail($"{Describe(node)} splits {column.N} columns into [{string.Join(", ", sizes)}], not each divisible by {_degree}");
        }

        _fresh.Remove(data);
        _region.Segments[column] = sizes.Select(s => (int)s).ToArray();
        _region.SplitSizes[node] = explicitSizes ? sizes.Select(s => s / _degree).ToArray() : null;
        foreach (var output in node.Outputs.Where(o => o.Length > 0)) SetSharded(output, axis);
    }
}
