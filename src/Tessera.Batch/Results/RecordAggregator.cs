using Tessera.Tensors;

namespace Tessera.Batch.Results;

/// <summary>
/// Reduces one output over all records, fed shard after shard in record order. Sums run in double precision in
/// that one order, so the result does not depend on how the records were sharded or which worker ran them.
/// </summary>
public sealed class RecordAggregator(AggregateKind kind, string output)
{
    private double[]? _sums;
    private long[]? _counts;
    private int[] _record = [];
    private long _records;

    /// <summary>The kinds by their command-line names.</summary>
    public static AggregateKind Parse(string name) => name switch
    {
        "mean" => AggregateKind.Mean,
        "softmax-mean" => AggregateKind.SoftmaxMean,
        "vote" => AggregateKind.Vote,
        _ => throw new BatchException($"--aggregate '{name}' is not one of mean, softmax-mean, vote"),
    };

    public static string Name(AggregateKind kind) => kind switch
    {
        AggregateKind.SoftmaxMean => "softmax-mean",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Adds the records of <paramref name="outputs"/> (axis 0 = records).</summary>
    public void Add(Tensor outputs)
    {
        if (outputs.DataType is not (DataType.Float32 or DataType.Float64))
        {
            throw new BatchException($"--aggregate {Name(kind)} needs a float output; '{output}' holds {DataTypes.Name(outputs.DataType)}");
        }

        _record = outputs.Shape[1..];
        int size = ShapeMath.ElementCount(_record);
        int classes = _record.Length > 0 ? _record[^1] : 0;
        if (kind != AggregateKind.Mean && classes == 0) throw new BatchException($"--aggregate {Name(kind)} needs a class axis: output '{output}' has one value per record");
        if (kind == AggregateKind.Vote && _record.Length != 1) throw new BatchException($"--aggregate vote needs one class score vector per record: output '{output}' has records of shape {ShapeMath.Format(_record)}");
        _sums ??= new double[size];
        _counts ??= kind == AggregateKind.Vote ? new long[classes] : null;

        var values = new double[size];
        for (int r = 0; r < outputs.Shape[0]; r++)
        {
            Read(outputs, (long)r * size, values);
            switch (kind)
            {
                case AggregateKind.Mean:
                    for (int i = 0; i < size; i++) _sums[i] += values[i];
                    break;
                case AggregateKind.SoftmaxMean:
                    for (int row = 0; row < size; row += classes) Softmax(values.AsSpan(row, classes));
                    for (int i = 0; i < size; i++) _sums[i] += values[i];
                    break;
                case AggregateKind.Vote:
                    int best = 0;
                    for (int c = 1; c < classes; c++) best = values[c] > values[best] ? c : best;
                    _counts![best]++;
                    break;
            }
        }

        _records += outputs.Shape[0];
    }

    public AggregateResult Result()
    {
        if (kind == AggregateKind.Vote)
        {
            var counts = _counts ?? [];
            int winner = counts.Length == 0 ? 0 : Array.IndexOf(counts, counts.Max());
            return new AggregateResult(Name(kind), _record, null, counts, winner);
        }

        return new AggregateResult(Name(kind), _record, [.. (_sums ?? []).Select(s => s / Math.Max(_records, 1))]);
    }

    private static void Read(Tensor tensor, long offset, double[] into)
    {
        if (tensor.DataType == DataType.Float32)
        {
            var span = tensor.Span<float>().Slice((int)offset, into.Length);
            for (int i = 0; i < into.Length; i++) into[i] = span[i];
        }
        else
        {
            tensor.Span<double>().Slice((int)offset, into.Length).CopyTo(into);
        }
    }

    private static void Softmax(Span<double> row)
    {
        double max = double.NegativeInfinity;
        foreach (double v in row) max = Math.Max(max, v);
        double sum = 0;
        for (int i = 0; i < row.Length; i++) sum += row[i] = Math.Exp(row[i] - max);
        for (int i = 0; i < row.Length; i++) row[i] /= sum;
    }
}
