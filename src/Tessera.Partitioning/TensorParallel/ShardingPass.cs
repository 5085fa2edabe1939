using Tessera.Onnx.Graph;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// One forward walk from a set of column-split layers: marks every value that holds only this rank's block along
/// some axis ("sharded"), and every value computed from a sharded value's shape ("tainted": valid only for the whole
/// model, so it may only feed Reshape targets that the rewrite replaces). Each node reading a sharded value must
/// be a row-split layer or an operator with a rule that keeps the block local.
/// </summary>
internal sealed partial class ShardingPass
{
    private readonly GraphIndex _index;
    private readonly IReadOnlyDictionary<OnnxNode, LinearLayer> _layers;
    private readonly Dictionary<string, LinearLayer> _layerByOutput = new(StringComparer.Ordinal);
    private readonly int _degree;
    private readonly List<LinearLayer> _columns;
    private readonly Func<LinearLayer, bool> _isFree;

    // Sharded values and the axis along which each rank holds block `rank` of `degree` equal blocks.
    private readonly Dictionary<string, int> _axis = new(StringComparer.Ordinal);

    // Outputs of Shape nodes over sharded values, with the entry that differs per rank.
    private readonly Dictionary<string, int> _shapeVectors = new(StringComparer.Ordinal);
    private readonly HashSet<string> _tainted = new(StringComparer.Ordinal);

    // Column outputs nothing has read yet: a Split may still choose how their columns are grouped.
    private readonly Dictionary<string, LinearLayer> _fresh = new(StringComparer.Ordinal);
    private readonly Region _region = new();

    public ShardingPass(GraphIndex index, IReadOnlyDictionary<OnnxNode, LinearLayer> layers, int degree, List<LinearLayer> columns,
        Func<LinearLayer, bool> isFree)
    {
        _index = index;
        _layers = layers;
        _degree = degree;
        _columns = columns;
        _isFree = isFree;
        foreach (var layer in layers.Values) _layerByOutput[layer.Output] = layer;
    }

    public ShardingOutcome Run()
    {
        try
        {
            Walk();
            return new ShardingOutcome(_region, null, null);
        }
        catch (Stop stop)
        {
            return new ShardingOutcome(null, stop.Reason, stop.Needed);
        }
    }

    private void Walk()
    {
        var own = new HashSet<OnnxNode>(ReferenceEqualityComparer.Instance);
        foreach (var column in _columns)
        {
            if (column.N % _degree != 0)
            {
                Fail($"{column} has {column.N} columns, not divisible by {_degree}");
            }

            own.Add(column.Node);
            if (column.BiasAdd is { } add) own.Add(add);
            int rank = _index.RankOf(column.Output) ?? Fail<int>($"the rank of {column.Output} is unknown");
            SetSharded(column.Output, rank - 1);
            _fresh[column.Output] = column;
            _region.Columns.Add(column);
        }

        int start = _columns.Min(c => _index.PositionOf(c.Node));
        foreach (var node in _index.Nodes.Skip(start))
        {
            if (own.Contains(node))
            {
                continue;
            }

            bool sharded = node.Inputs.Any(_axis.ContainsKey);
            bool tainted = node.Inputs.Any(i => _tainted.Contains(i) || _shapeVectors.ContainsKey(i));
            if (sharded)
            {
                Visit(node, tainted);
            }
            else if (tainted)
            {
                VisitTainted(node);
            }
        }

        foreach (var output in _index.Graph.Outputs)
        {
            if (_axis.ContainsKey(output.Name) || _tainted.Contains(output.Name) || _shapeVectors.ContainsKey(output.Name))
            {
                Fail($"graph output '{output.Name}' would hold only part of its value");
            }
        }

        if (_region.Rows.Count == 0)
        {
            Fail("no row-split layer closes the block");
        }
    }

    private void Visit(OnnxNode node, bool tainted)
    {
        if (_layers.TryGetValue(node, out var layer) && _axis.ContainsKey(layer.Input) && !_axis.ContainsKey(layer.WeightName))
        {
            CloseWithRow(layer);
            return;
        }

        if (node.OpType == "Shape" && node.Domain.Length == 0)
        {
            // Shape with start/end gives a slice of the shape: treat all of it as differing.
            if (node.Attributes.ContainsKey("start") || node.Attributes.ContainsKey("end"))
            {
                _tainted.Add(node.Outputs[0]);
            }
            else
            {
                _shapeVectors[node.Outputs[0]] = _axis[node.Inputs[0]];
            }

            return;
        }

        if (tainted && !(node.OpType == "Reshape" && node.Inputs.Count > 1 && !_axis.ContainsKey(node.Inputs[1])
            && node.Inputs.Skip(2).All(i => !_tainted.Contains(i))))
        {
            Fail($"{Describe(node)} mixes a split value with its shape");
        }

        ApplyRule(node);
    }

    private void CloseWithRow(LinearLayer layer)
    {
        int rank = _index.RankOf(layer.Input) ?? Fail<int>($"the rank of {layer.Input} is unknown");
        if (_axis[layer.Input] != rank - 1)
        {
            Fail($"{layer} reads a value split along axis {_axis[layer.Input]}, not its last axis");
        }

        if (!_isFree(layer))
        {
            Fail($"{layer} is already split in another block");
        }

        if (_fresh.ContainsKey(layer.Input))
        {
            _fresh.Remove(layer.Input);
        }

        _region.Rows.Add(layer);
    }

    private void VisitTainted(OnnxNode node)
    {
        // Gather of one entry of a shape vector: only the entry of the split axis differs per rank.
        if (node.OpType == "Gather" && node.Domain.Length == 0 && _shapeVectors.TryGetValue(node.Inputs[0], out int axis)
            && node.Attributes.GetValueOrDefault("axis")?.Int is null or 0 && _index.ConstantOf(node.Inputs[1]) is { Length: 1 } indices)
        {
            long at = indices.DataType == Tensors.DataType.Int32 ? indices.ToArray<int>()[0] : indices.ToArray<long>()[0];
            int rank = _index.ShapeOf(node.Inputs[0]) is [{ IsKnown: true } length] ? (int)length.Value!.Value : -1;
            if (at == axis || (at < 0 && rank >= 0 && at + rank == axis) || (at < 0 && rank < 0))
            {
                _tainted.Add(node.Outputs[0]);
            }

            return;
        }

        if (node.OpType == "Reshape" && node.Inputs.Count > 1 && (_tainted.Contains(node.Inputs[1]) || _shapeVectors.ContainsKey(node.Inputs[1])))
        {
            Fail($"{Describe(node)} reshapes a whole value with a shape taken from a split one");
        }

        foreach (var output in node.Outputs.Where(o => o.Length > 0)) _tainted.Add(output);
    }

    private void SetSharded(string value, int axis)
    {
        _axis[value] = axis;
        _region.ShardedValues.Add(value);
    }

    /// <summary>The free column layer whose output reaches <paramref name="value"/> through per-element or layout operators, if any.</summary>
    private LinearLayer? ColumnFeeding(string value)
    {
        for (int depth = 0; depth < 8; depth++)
        {
            if (_layerByOutput.TryGetValue(value, out var layer))
            {
                return _isFree(layer) && !_columns.Contains(layer) ? layer : null;
            }

            var producer = _index.ProducerOf(value);
            if (producer is null || producer.Domain.Length != 0 || producer.Inputs.Count == 0)
            {
                return null;
            }

            string? next = producer.OpType is "Split" or "Transpose" or "Reshape" || IsUnary(producer.OpType)
                ? producer.Inputs[0]
                : IsBroadcasting(producer.OpType) ? OnlyComputedInput(producer) : null;
            if (next is null)
            {
                return null;
            }

            value = next;
        }

        return null;
    }

    // Two computed operands (a residual Add, say) leave no single path back to a column layer.
    private string? OnlyComputedInput(OnnxNode node)
    {
        var computed = node.Inputs.Where(i => i.Length > 0 && !_index.IsConstant(i)).Distinct(StringComparer.Ordinal).ToList();
        return computed.Count == 1 ? computed[0] : null;
    }

    private static string Describe(OnnxNode node) => $"{node.OpType} '{node.DisplayName}'";

    private static void Fail(string reason) => throw new Stop(reason, null);

    private static T Fail<T>(string reason) => throw new Stop(reason, null);

    private static void Need(LinearLayer layer) => throw new Stop(null, layer);

    /// <summary>Ends the walk: with a reason the block cannot be formed, or with a column layer to add and retry.</summary>
    private sealed class Stop(string? reason, LinearLayer? needed) : Exception(reason ?? "needs another column layer")
    {
        public string? Reason { get; } = reason;

        public LinearLayer? Needed { get; } = needed;
    }
}
