using System.Collections.Concurrent;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Data;
using Tessera.Tensors;

namespace Tessera.Cluster.Execution;

/// <summary>
/// The outputs of a batch split into shards along axis 0, received straight into one batch-sized tensor per output:
/// each shard's reply is read into its own rows, so joining the shards costs neither a copy nor a second allocation.
/// An output that does not fit the pattern (no batch axis, another row count) is received fresh and concatenated.
/// </summary>
internal sealed unsafe class ShardedOutputs
{
    private readonly int _batch;
    private readonly int[] _starts;
    private readonly int[] _rows;
    private readonly ConcurrentDictionary<string, Tensor> _whole = new(StringComparer.Ordinal);

    /// <param name="into">The caller's output tensors (by name) to read the shards into, when it recycles them.</param>
    public ShardedOutputs(int[] starts, int[] rows, IReadOnlyDictionary<string, Tensor>? into = null)
    {
        _starts = starts;
        _rows = rows;
        _batch = rows.Sum();
        foreach (var (name, tensor) in into ?? new Dictionary<string, Tensor>())
        {
            if (tensor.Rank > 0 && tensor.Shape[0] == _batch && tensor.DataType != DataType.String)
            {
                _whole[name] = tensor;
            }
        }
    }

    /// <summary>Where shard <paramref name="shard"/>'s output tensors are read into.</summary>
    public OutputPlacement For(int shard) => (name, dataType, shape) => Place(shard, name, dataType, shape);

    /// <summary>The whole output: the shared tensor when every shard was read into its rows, else a concatenation.</summary>
    public Tensor Join(string name, Tensor[] parts)
    {
        if (_whole.TryGetValue(name, out var whole) && parts.Length == _rows.Length)
        {
            bool inPlace = true;
            for (int s = 0; s < parts.Length && inPlace; s++)
            {
                inPlace = ReferenceEquals(parts[s].StorageOwner, whole.StorageOwner) && parts[s].Pointer == RowsOf(whole, s);
            }

            if (inPlace)
            {
                return whole;
            }
        }

        if (parts.Length == 1)
        {
            return parts[0];
        }

        if (parts.Any(p => p.Rank == 0 || p.DataType == DataType.String))
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, $"data parallel runs need numeric outputs with a batch axis to concatenate ('{name}' is not)");
        }

        try
        {
            return BatchSplit.Concat(parts, 0);
        }
        catch (ArgumentException e)
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, $"the replicas' '{name}' outputs do not join: {e.Message}");
        }
    }

    /// <summary>
    /// The joined output as the caller receives it: in the caller's own tensor for <paramref name="name"/> when it gave
    /// one (copied there when the shards could not be read into it in place), else the joined tensor itself.
    /// </summary>
    public static Tensor Deliver(string name, Tensor joined, IReadOnlyDictionary<string, Tensor>? into)
    {
        if (into is null || !into.TryGetValue(name, out var target) || ReferenceEquals(target, joined))
        {
            return joined;
        }

        if (target.DataType != joined.DataType || !target.Shape.AsSpan().SequenceEqual(joined.Shape))
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, $"output '{name}' is {DataTypes.Name(joined.DataType)}[{string.Join(",", joined.Shape)}], but the tensor given for it is {DataTypes.Name(target.DataType)}[{string.Join(",", target.Shape)}]");
        }

        joined.Bytes.CopyTo(target.Bytes);
        return target;
    }

    private Tensor? Place(int shard, string name, DataType dataType, int[] shape)
    {
        if (_batch == 0 || shape.Length == 0 || shape[0] != _rows[shard] || dataType == DataType.String)
        {
            return null;
        }

        var whole = _whole.GetOrAdd(name, _ =>
        {
            int[] full = (int[])shape.Clone();
            full[0] = _batch;
            return Tensor.Allocate(dataType, full);
        });
        if (whole.DataType != dataType || !whole.Shape.AsSpan(1).SequenceEqual(shape.AsSpan(1)))
        {
            return null;
        }

        return Tensor.FromPointer(dataType, shape, RowsOf(whole, shard), whole);
    }

    private byte* RowsOf(Tensor whole, int shard) => whole.Pointer + ((long)_starts[shard] * (whole.ByteLength / _batch));
}
