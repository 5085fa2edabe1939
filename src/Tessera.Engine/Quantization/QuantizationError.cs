using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Quantization;

/// <summary>
/// How far a quantized model's float outputs are from the float model's on the same inputs: the largest absolute
/// difference, the cosine similarity of all values, and (over the last axis, as for logits) how often the arg-max agrees.
/// </summary>
public sealed record QuantizationError(string Output, double MaxAbs, double Cosine, double Top1Agreement, int Rows)
{
    public static IReadOnlyList<QuantizationError> Measure(OnnxModel reference, OnnxModel quantized,
        IReadOnlyList<IReadOnlyDictionary<string, Tensor>> samples, int threads)
    {
        var options = new SessionOptions { Threads = threads };
        var expectedSession = new InferenceSession(reference, options);
        var actualSession = new InferenceSession(quantized, options);
        var totals = new Dictionary<string, Accumulator>(StringComparer.Ordinal);
        foreach (var sample in samples)
        {
            var expected = expectedSession.Run(sample);
            var actual = actualSession.Run(sample);
            foreach (var (name, e) in expected)
            {
                if (e.DataType != DataType.Float32) continue;
                if (!totals.TryGetValue(name, out var total)) totals[name] = total = new Accumulator();
                total.Add(e, actual[name]);
            }
        }

        return totals.Select(t => t.Value.Result(t.Key)).ToList();
    }

    /// <summary>The error of <paramref name="actual"/> against <paramref name="expected"/>, float32 tensors of one shape.</summary>
    public static QuantizationError Between(string output, Tensor expected, Tensor actual)
    {
        var total = new Accumulator();
        total.Add(expected, actual);
        return total.Result(output);
    }

    private sealed class Accumulator
    {
        private double _maxAbs, _dot, _expectedSquares, _actualSquares;
        private int _rows, _agreements;

        public void Add(Tensor expected, Tensor actual)
        {
            var e = expected.Span<float>();
            var a = actual.Span<float>();
            for (int i = 0; i < e.Length; i++)
            {
                _maxAbs = Math.Max(_maxAbs, Math.Abs((double)e[i] - a[i]));
                _dot += (double)e[i] * a[i];
                _expectedSquares += (double)e[i] * e[i];
                _actualSquares += (double)a[i] * a[i];
            }

            int width = expected.Rank == 0 ? 1 : expected.Shape[^1];
            if (width < 2) return;
            for (int row = 0; row + width <= e.Length; row += width)
            {
                _rows++;
                if (ArgMax(e.Slice(row, width)) == ArgMax(a.Slice(row, width))) _agreements++;
            }
        }

        public QuantizationError Result(string name)
        {
            double norms = Math.Sqrt(_expectedSquares * _actualSquares);
            double cosine = norms == 0 ? (_expectedSquares == _actualSquares ? 1 : 0) : _dot / norms;
            return new QuantizationError(name, _maxAbs, cosine, _rows == 0 ? double.NaN : (double)_agreements / _rows, _rows);
        }

        private static int ArgMax(ReadOnlySpan<float> values)
        {
            int best = 0;
            for (int i = 1; i < values.Length; i++)
            {
                if (values[i] > values[best]) best = i;
            }

            return best;
        }
    }
}
