using System.Collections.Concurrent;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Data;
using Tessera.Tensors;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// A batch cut into contiguous pieces along its batch axes — shares of placements, each cut again into micro-batches
/// — and the join of their outputs: the one place a deployment cuts and joins (the tensor arithmetic is
/// <see cref="BatchSplit"/>'s). When every output is batched on axis 0, each piece's outputs are read straight into
/// their rows of one batch-sized tensor per output (the caller's own, when it gives them), so joining costs neither a
/// copy nor a second allocation; otherwise the pieces come fresh and are concatenated.
/// </summary>
internal sealed unsafe class BatchPieces
{
    private readonly int _batch;
    private readonly int[] _starts;
    private readonly int[] _rows;
    private readonly ConcurrentDictionary<string, Tensor> _whole = new(StringComparer.Ordinal);

    private BatchPieces(int[] starts, int[] rows, bool placed, IReadOnlyDictionary<string, Tensor>? into)
    {
        _starts = starts;
        _rows = rows;
        _batch = rows.Sum();
        Placed = placed;
        foreach (var (name, tensor) in into ?? new Dictionary<string, Tensor>())
        {
            if (placed && tensor.Rank > 0 && tensor.Shape[0] == _batch && tensor.DataType != DataType.String)
            {
                _whole[name] = tensor;
            }
        }
    }

    public int Count => _rows.Length;

    /// <summary>True when the pieces' outputs are read into their rows of the whole.</summary>
    public bool Placed { get; }

    public int Start(int piece) => _starts[piece];

    public int Rows(int piece) => _rows[piece];

    /// <summary>
    /// Cuts <paramref name="rows"/> rows into one share per weight (largest remainder, <see cref="BatchSplit.Counts"/>)
    /// and each share s of n rows into the micro-batches <paramref name="sizesOf"/>(s, n) (sizes that sum to n). Shares
    /// of no rows have no pieces; <paramref name="shareOf"/> tells each piece's share.
    /// </summary>
    public static BatchPieces Cut(int rows, IReadOnlyList<double> weights, Func<int, int, int[]> sizesOf, bool placed, IReadOnlyDictionary<string, Tensor>? into, out int[] shareOf)
    {
        int[] shares = BatchSplit.Counts(rows, weights);
        var starts = new List<int>();
        var counts = new List<int>();
        var owners = new List<int>();
        int at = 0;
        for (int s = 0; s < shares.Length; s++)
        {
            if (shares[s] == 0) continue;
            int[] sizes = sizesOf(s, shares[s]);
            if (sizes.Sum() != shares[s] || sizes.Any(n => n < 1)) throw new InvalidOperationException($"micro-batches [{string.Join(", ", sizes)}] do not cut a share of {shares[s]} rows");
            foreach (int count in sizes)
            {
                starts.Add(at);
                counts.Add(count);
                owners.Add(s);
                at += count;
            }
        }

        shareOf = [.. owners];
        return new BatchPieces([.. starts], [.. counts], placed, into);
    }

    /// <summary>
    /// Piece <paramref name="piece"/> of every input: views of the rows where they are contiguous (<see cref="BatchSplit.Slice"/>).
    /// Rows on another axis than the first may be copied out, which reads the tensor's own bytes: <see cref="DeferredStorage"/> is filled first.
    /// </summary>
    public Dictionary<string, Tensor> Slice(IReadOnlyDictionary<string, Tensor> inputs, int piece, Func<string, int> axisOf) =>
        inputs.ToDictionary(kv => kv.Key, kv => BatchSplit.Slice(axisOf(kv.Key) == 0 ? kv.Value : Filled(kv.Value), axisOf(kv.Key), _starts[piece], _rows[piece]), StringComparer.Ordinal);

    private static Tensor Filled(Tensor tensor)
    {
        DeferredStorage.Materialize(tensor);
        return tensor;
    }

    /// <summary>Where piece <paramref name="piece"/>'s outputs are read into; null when the pieces are not placed.</summary>
    public OutputPlacement? For(int piece) => Placed ? (name, dataType, shape) => Place(piece, name, dataType, shape) : null;

    /// <summary>The whole output: the shared tensor when every piece was read into its rows, else a concatenation along <paramref name="axis"/>.</summary>
    public Tensor Join(string name, Tensor[] parts, int axis)
    {
        if (_whole.TryGetValue(name, out var whole) && parts.Length == _rows.Length)
        {
            bool inPlace = true;
            for (int p = 0; p < parts.Length && inPlace; p++)
            {
                inPlace = ReferenceEquals(parts[p].StorageOwner, whole.StorageOwner) && parts[p].Pointer == RowsOf(whole, p);
            }

            if (inPlace) return whole;
        }

        if (parts.Length == 1) return parts[0];
        if (parts.Any(p => p.Rank <= axis || p.DataType == DataType.String))
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, $"output '{name}' cannot be joined along axis {axis}: split batches need numeric outputs with a batch axis");
        }

        try
        {
            return BatchSplit.Concat(parts, axis);
        }
        catch (ArgumentException e)
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, $"the pieces' '{name}' outputs do not join: {e.Message}");
        }
    }

    /// <summary>
    /// The output as the caller receives it: in the caller's own tensor for <paramref name="name"/> when it gave one
    /// (copied there when it could not be read into it in place), else <paramref name="joined"/> itself.
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

    private Tensor? Place(int piece, string name, DataType dataType, int[] shape)
    {
        if (_batch == 0 || shape.Length == 0 || shape[0] != _rows[piece] || dataType == DataType.String)
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

        return Tensor.FromPointer(dataType, shape, RowsOf(whole, piece), whole);
    }

    private byte* RowsOf(Tensor whole, int piece) => whole.Pointer + ((long)_starts[piece] * (whole.ByteLength / _batch));
}
