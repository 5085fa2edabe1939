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

    // The batch-sized tensor of each output (by its index in _outputs), set once by the first piece that needs it: an
    // array and a linear search, not a dictionary, since a model has a few outputs and this is built for every batch.
    private readonly IReadOnlyList<string> _outputs;
    private readonly Tensor?[] _whole;

    private BatchPieces(int[] starts, int[] rows, int batch, IReadOnlyList<string> outputs, bool placed, IReadOnlyDictionary<string, Tensor>? into)
    {
        _starts = starts;
        _rows = rows;
        _batch = batch;
        _outputs = outputs;
        _whole = new Tensor?[outputs.Count];
        Placed = placed;
        if (!placed || into is null) return;
        for (int o = 0; o < outputs.Count; o++)
        {
            if (into.TryGetValue(outputs[o], out var tensor) && tensor.Rank > 0 && tensor.Shape[0] == _batch && tensor.DataType != DataType.String)
            {
                _whole[o] = tensor;
            }
        }
    }

    public int Count => _rows.Length;

    /// <summary>True when the pieces' outputs are read into their rows of the whole.</summary>
    public bool Placed { get; }

    public int Start(int piece) => _starts[piece];

    public int Rows(int piece) => _rows[piece];

    /// <summary>
    /// Cuts <paramref name="rows"/> rows into one share per placement by <paramref name="weights"/> (largest remainder,
    /// <see cref="BatchSplit.Counts"/>) and each share of n rows into its placement's micro-batches (<see cref="Placement.PieceSizes"/>;
    /// one piece for a null share). Shares of no rows have no pieces; <paramref name="shareOf"/> tells each piece's share.
    /// <paramref name="outputs"/> are the outputs the pieces may be read into their rows of (when <paramref name="placed"/>).
    /// </summary>
    public static BatchPieces Cut(int rows, Placement?[] shares, IReadOnlyList<double> weights, DeploymentOptions options, IReadOnlyList<string> outputs, bool placed, IReadOnlyDictionary<string, Tensor>? into, out int[] shareOf)
    {
        int[] counts = BatchSplit.Counts(rows, weights);
        var sizes = new int[counts.Length][];
        int pieces = 0;
        for (int s = 0; s < counts.Length; s++)
        {
            if (counts[s] == 0) continue;
            int[] cut = shares[s] is { } placement ? placement.PieceSizes(counts[s], options) : [counts[s]];
            int sum = 0;
            foreach (int n in cut)
            {
                if (n < 1) sum = -1;
                if (sum >= 0) sum += n;
            }

            if (sum != counts[s]) throw new InvalidOperationException($"micro-batches [{string.Join(", ", cut)}] do not cut a share of {counts[s]} rows");
            sizes[s] = cut;
            pieces += cut.Length;
        }

        var starts = new int[pieces];
        var lengths = new int[pieces];
        shareOf = new int[pieces];
        int at = 0, piece = 0;
        for (int s = 0; s < sizes.Length; s++)
        {
            if (sizes[s] is not { } cut) continue;
            foreach (int count in cut)
            {
                starts[piece] = at;
                lengths[piece] = count;
                shareOf[piece++] = s;
                at += count;
            }
        }

        return new BatchPieces(starts, lengths, rows, outputs, placed, into);
    }

    /// <summary>
    /// Piece <paramref name="piece"/> of every input: views of the rows where they are contiguous (<see cref="BatchSplit.Slice"/>).
    /// Rows on another axis than the first may be copied out, which reads the tensor's own bytes: <see cref="DeferredStorage"/> is filled first.
    /// </summary>
    public Dictionary<string, Tensor> Slice(IReadOnlyDictionary<string, Tensor> inputs, int piece, IReadOnlyDictionary<string, int> axes)
    {
        var slices = new Dictionary<string, Tensor>(inputs.Count, StringComparer.Ordinal);
        foreach (var (name, tensor) in inputs)
        {
            int axis = axes[name];
            slices[name] = BatchSplit.Slice(axis == 0 ? tensor : Filled(tensor), axis, _starts[piece], _rows[piece]);
        }

        return slices;
    }

    private static Tensor Filled(Tensor tensor)
    {
        DeferredStorage.Materialize(tensor);
        return tensor;
    }

    /// <summary>Where piece <paramref name="piece"/>'s outputs are read into; null when the pieces are not placed.</summary>
    public OutputPlacement? For(int piece) => Placed ? (name, dataType, shape) => Place(piece, name, dataType, shape) : null;

    /// <summary>
    /// The whole output <paramref name="output"/> (an index into the outputs it was cut for): the shared tensor when
    /// every piece was read into its rows, else a concatenation along <paramref name="axis"/>.
    /// </summary>
    public Tensor Join(int output, Tensor[] parts, int axis)
    {
        string name = _outputs[output];
        if (Volatile.Read(ref _whole[output]) is { } whole && parts.Length == _rows.Length)
        {
            bool inPlace = true;
            for (int p = 0; p < parts.Length && inPlace; p++)
            {
                inPlace = ReferenceEquals(parts[p].StorageOwner, whole.StorageOwner) && parts[p].Pointer == RowsOf(whole, p);
            }

            if (inPlace) return whole;
        }

        if (parts.Length == 1) return parts[0];
        foreach (var part in parts)
        {
            if (part.Rank > axis && part.DataType != DataType.String) continue;
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

        int output = IndexOf(name);
        if (output < 0) return null; // not an output of the model: nothing joins it
        var whole = Volatile.Read(ref _whole[output]);
        if (whole is null)
        {
            int[] full = (int[])shape.Clone();
            full[0] = _batch;
            var made = Tensor.Allocate(dataType, full);
            whole = Interlocked.CompareExchange(ref _whole[output], made, null) ?? made; // pieces may answer at once
        }

        if (whole.DataType != dataType || !whole.Shape.AsSpan(1).SequenceEqual(shape.AsSpan(1)))
        {
            return null;
        }

        return Tensor.FromPointer(dataType, shape, RowsOf(whole, piece), whole);
    }

    private int IndexOf(string name)
    {
        for (int o = 0; o < _outputs.Count; o++)
        {
            if (string.Equals(_outputs[o], name, StringComparison.Ordinal)) return o;
        }

        return -1;
    }

    private byte* RowsOf(Tensor whole, int piece) => whole.Pointer + ((long)_starts[piece] * (whole.ByteLength / _batch));
}
