using Tessera.Kernels.Collective;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>How a split layer is written into a shard.</summary>
internal sealed partial class ShardBuilder
{
    private void EmitLayer(OnnxNode node, LayerAssignment assignment, int position)
    {
        var layer = assignment.Layer;
        string key = assignment.Key;
        if (assignment.IsColumn)
        {
            // W [K, N] keeps the rank's columns; stored [N, K] (Gemm transB) keeps the same as rows.
            var weight = TensorSlicing.Block(layer.Weight, layer.WeightTransposed ? 0 : 1, assignment.Segments, _rank, _degree);
            node.Inputs[1] = AddInitializer($"{layer.WeightName}.tp{position}", weight);
            if (layer.GemmBias is { Rank: > 0 } c && c.Shape[^1] == layer.N)
            {
                node.Inputs[2] = AddInitializer($"{node.Inputs[2]}.tp{position}", TensorSlicing.Block(c, c.Rank - 1, assignment.Segments, _rank, _degree));
            }

            _nodes.Add(node);
            if (assignment.Gather && layer.BiasAdd is null)
            {
                GatherOutput(node, key);
            }

            return;
        }

        var rows = TensorSlicing.Block(layer.Weight, layer.WeightTransposed ? 1 : 0, [layer.K], _rank, _degree);
        node.Inputs[1] = AddInitializer($"{layer.WeightName}.tp{position}", rows);
        if (assignment.SliceInput)
        {
            node.Inputs[0] = SliceInput(layer, position);
        }

        string output = node.Outputs[0];
        node.Outputs[0] = $"{output}.tp_partial";
        if (layer.IsGemm && node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
        {
            // The bias is added once, after the sum: beta·C on top of the reduced alpha·A·B.
            string bias = node.Inputs[2];
            node.Inputs.RemoveRange(2, node.Inputs.Count - 2);
            float beta = node.Attributes.GetValueOrDefault("beta")?.Float ?? 1f;
            node.Attributes.Remove("beta");
            if (beta != 1f)
            {
                bias = AddInitializer($"{bias}.tp{position}", Scaled(layer.GemmBias!, beta));
            }

            _nodes.Add(node);
            _nodes.Add(Collective(CollectiveKernels.AllReduce, node.Outputs[0], $"{output}.tp_sum", key));
            var add = new OnnxNode { OpType = "Add", Name = $"{output}/bias" };
            add.Inputs.AddRange([$"{output}.tp_sum", bias]);
            add.Outputs.Add(output);
            _nodes.Add(add);
            return;
        }

        _nodes.Add(node);
        _nodes.Add(Collective(CollectiveKernels.AllReduce, node.Outputs[0], output, key));
    }

    /// <summary>A column layer's bias Add keeps the rank's entries; a row layer's stays whole (added after the sum).</summary>
    private void EmitBias(OnnxNode node, LayerAssignment assignment, int position)
    {
        var layer = assignment.Layer;
        if (assignment.IsColumn)
        {
            string bias = node.Inputs[layer.BiasInput];
            var value = _index.ConstantOf(bias)!;
            node.Inputs[layer.BiasInput] = AddInitializer($"{bias}.tp{position}", TensorSlicing.Block(value, 0, assignment.Segments, _rank, _degree));
        }

        _nodes.Add(node);
        if (assignment.IsColumn && assignment.Gather)
        {
            GatherOutput(node, assignment.Key);
        }
    }

    /// <summary>Renames the node's output to a local one and gathers the ranks' slices into the original name.</summary>
    private void GatherOutput(OnnxNode node, string key)
    {
        string output = node.Outputs[0];
        node.Outputs[0] = $"{output}.tp_local";
        _nodes.Add(Collective(CollectiveKernels.AllGather, node.Outputs[0], output, key, axis: -1));
    }

    /// <summary>Inserts a Slice of the rank's K/T entries of the layer's input along its last axis.</summary>
    private string SliceInput(LinearLayer layer, int position)
    {
        int width = layer.K / _degree;
        string sliced = $"{layer.Input}.tp_slice{position}";
        var slice = new OnnxNode { OpType = "Slice", Name = $"{sliced}/Slice" };
        slice.Inputs.Add(layer.Input);
        slice.Outputs.Add(sliced);
        long[] starts = [_rank * width], ends = [(_rank + 1) * width], axes = [-1];
        if (_shard.DefaultOpset >= 10)
        {
            slice.Inputs.Add(AddInitializer($"{sliced}.starts", Tensor.FromArray(starts, 1)));
            slice.Inputs.Add(AddInitializer($"{sliced}.ends", Tensor.FromArray(ends, 1)));
            slice.Inputs.Add(AddInitializer($"{sliced}.axes", Tensor.FromArray(axes, 1)));
        }
        else
        {
            int rank = _index.RankOf(layer.Input) ?? 2;
            slice.Attributes["starts"] = new NodeAttribute { Name = "starts", Kind = AttributeKind.Ints, Ints = starts };
            slice.Attributes["ends"] = new NodeAttribute { Name = "ends", Kind = AttributeKind.Ints, Ints = ends };
            slice.Attributes["axes"] = new NodeAttribute { Name = "axes", Kind = AttributeKind.Ints, Ints = [rank - 1] };
        }

        _nodes.Add(slice);
        return sliced;
    }

    private static Tensor Scaled(Tensor tensor, float factor)
    {
        var copy = tensor.Clone();
        switch (copy.DataType)
        {
            case DataType.Float32:
                foreach (ref float v in copy.Span<float>()) v *= factor;
                break;
            case DataType.Float64:
                foreach (ref double v in copy.Span<double>()) v *= factor;
                break;
            case DataType.Float16:
                foreach (ref Half v in copy.Span<Half>()) v = (Half)((float)v * factor);
                break;
        }

        return copy;
    }
}
