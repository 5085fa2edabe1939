using Tessera.Tensors;

namespace Tessera.Serving.Scheduling;

/// <summary>Stacks requests along the leading axis into one batch and cuts the batch's outputs back into per-request results.</summary>
internal static class TensorBatcher
{
    /// <summary>True when two requests can share a batch: same input names, datatypes and every dimension but the first.</summary>
    public static bool Compatible(IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var (name, x) in a)
        {
            if (!b.TryGetValue(name, out var y) || x.DataType != y.DataType || x.Rank != y.Rank || x.Rank == 0)
            {
                return false;
            }

            if (!x.Shape.AsSpan(1).SequenceEqual(y.Shape.AsSpan(1)))
            {
                return false;
            }
        }

        return true;
    }

    public static Dictionary<string, Tensor> Merge(IReadOnlyList<PendingRequest> batch, int rows)
    {
        var merged = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, first) in batch[0].Inputs)
        {
            int[] shape = (int[])first.Shape.Clone();
            shape[0] = rows;
            var tensor = Tensor.Allocate(first.DataType, shape);
            if (first.DataType == DataType.String)
            {
                int at = 0;
                foreach (var r in batch)
                {
                    var part = r.Inputs[name].Strings;
                    part.CopyTo(tensor.Strings, at);
                    at += part.Length;
                }
            }
            else
            {
                var target = tensor.Bytes;
                foreach (var r in batch)
                {
                    var part = r.Inputs[name].Bytes;
                    part.CopyTo(target);
                    target = target[part.Length..];
                }
            }

            merged[name] = tensor;
        }

        return merged;
    }

    /// <summary>Per-request outputs, in batch order; false when an output's leading dimension is not the batch's rows.</summary>
    public static bool TrySplit(IReadOnlyDictionary<string, Tensor> outputs, IReadOnlyList<PendingRequest> batch, int rows, out Dictionary<string, Tensor>[] results)
    {
        results = new Dictionary<string, Tensor>[batch.Count];
        foreach (var (_, output) in outputs)
        {
            if (output.Rank == 0 || output.Shape[0] != rows)
            {
                return false;
            }
        }

        for (int i = 0; i < batch.Count; i++)
        {
            results[i] = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        }

        foreach (var (name, output) in outputs)
        {
            int rowElements = rows == 0 ? 0 : output.Length / rows;
            int at = 0;
            for (int i = 0; i < batch.Count; i++)
            {
                int[] shape = (int[])output.Shape.Clone();
                shape[0] = batch[i].Rows;
                var part = Tensor.Allocate(output.DataType, shape);
                int count = batch[i].Rows * rowElements;
                if (output.DataType == DataType.String)
                {
                    Array.Copy(output.Strings, at, part.Strings, 0, count);
                }
                else
                {
                    output.Bytes.Slice(at * output.ElementSize, count * output.ElementSize).CopyTo(part.Bytes);
                }

                at += count;
                results[i][name] = part;
            }
        }

        return true;
    }
}
