using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Pooling;

/// <summary>One pooling configuration and a direct, per-output scalar evaluation of it (the test's reference).</summary>
internal sealed record PoolCase(bool Max, int[] Shape, int[] Kernel, int[] Strides, int[] Dilations, int[] Pads, string AutoPad, bool Ceil,
    bool CountIncludePad, bool ColumnMajor)
{
    public int SpatialRank => Kernel.Length;

    public int Opset => Max ? 12 : Dilations.Any(d => d != 1) ? 19 : 11;

    public List<NodeAttribute> Attributes()
    {
        var list = new List<NodeAttribute>
        {
            KernelHarness.Ints("kernel_shape", Kernel.Select(v => (long)v).ToArray()),
            KernelHarness.Ints("strides", Strides.Select(v => (long)v).ToArray()),
            KernelHarness.Int("ceil_mode", Ceil ? 1 : 0),
        };
        if (Dilations.Any(d => d != 1))
        {
            list.Add(KernelHarness.Ints("dilations", Dilations.Select(v => (long)v).ToArray()));
        }

        if (AutoPad == "NOTSET")
        {
            list.Add(KernelHarness.Ints("pads", Pads.Select(v => (long)v).ToArray()));
        }
        else
        {
            list.Add(KernelHarness.String("auto_pad", AutoPad));
        }

        list.Add(Max ? KernelHarness.Int("storage_order", ColumnMajor ? 1 : 0) : KernelHarness.Int("count_include_pad", CountIncludePad ? 1 : 0));
        return list;
    }

    /// <summary>Output spatial sizes and the begin/end pads actually used, or null when some dimension has no output.</summary>
    public (int[] Out, int[] Begin, int[] End)? Geometry()
    {
        int r = SpatialRank;
        int[] output = new int[r], begin = new int[r], end = new int[r];
        for (int i = 0; i < r; i++)
        {
            int n = Shape[i + 2], k = Kernel[i], s = Strides[i], d = Dilations[i];
            int ek = (k - 1) * d + 1;
            if (AutoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                output[i] = (n + s - 1) / s;
                int total = Math.Max(0, (output[i] - 1) * s + ek - n);
                begin[i] = AutoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                end[i] = total - begin[i];
            }
            else
            {
                begin[i] = AutoPad == "VALID" ? 0 : Pads[i];
                end[i] = AutoPad == "VALID" ? 0 : Pads[i + r];
                int span = n + begin[i] + end[i] - ek;
                if (span < 0)
                {
                    return null;
                }

                output[i] = Ceil && AutoPad == "NOTSET" ? (int)Math.Ceiling(span / (double)s) + 1 : span / s + 1;
                if (Ceil && AutoPad == "NOTSET" && (output[i] - 1) * s >= n + begin[i])
                {
                    output[i]--;
                }
            }

            if (output[i] <= 0)
            {
                return null;
            }
        }

        return (output, begin, end);
    }

    public (int[] Shape, double[] Values, long[] Indices) Evaluate(double[] x)
    {
        var (outSpatial, begin, end) = Geometry()!.Value;
        int r = SpatialRank;
        int[] outShape = [Shape[0], Shape[1], .. outSpatial];
        int planes = Shape[0] * Shape[1];
        int inPlane = ShapeMath.Product(Shape, 2, Shape.Length);
        int outPlane = ShapeMath.Product(outShape, 2, outShape.Length);
        var values = new double[planes * outPlane];
        var indices = new long[planes * outPlane];
        int[] inStrides = ShapeMath.Strides(Shape.AsSpan(2));
        int taps = Kernel.Aggregate(1, (a, b) => a * b);
        for (int p = 0; p < planes; p++)
        {
            for (int o = 0; o < outPlane; o++)
            {
                int[] oi = Unravel(o, outSpatial);
                double best = double.NegativeInfinity, sum = 0;
                long bestIndex = -1;
                int valid = 0, padded = 0;
                for (int t = 0; t < taps; t++)
                {
                    int[] ti = Unravel(t, Kernel);
                    bool inside = true, insidePadded = true;
                    int offset = 0;
                    long columnMajor = 0, columnStride = 1;
                    for (int i = 0; i < r; i++)
                    {
                        int pos = oi[i] * Strides[i] - begin[i] + ti[i] * Dilations[i];
                        inside &= pos >= 0 && pos < Shape[i + 2];
                        insidePadded &= pos < Shape[i + 2] + end[i];
                        offset += pos * inStrides[i];
                        columnMajor += pos * columnStride;
                        columnStride *= Shape[i + 2];
                    }

                    padded += insidePadded ? 1 : 0;
                    if (!inside)
                    {
                        continue;
                    }

                    valid++;
                    double v = x[p * inPlane + offset];
                    sum += v;
                    if (v > best)
                    {
                        best = v;
                        bestIndex = (long)p * inPlane + (ColumnMajor ? columnMajor : offset);
                    }
                }

                values[p * outPlane + o] = Max ? best : sum / (CountIncludePad ? padded : valid);
                indices[p * outPlane + o] = bestIndex;
            }
        }

        return (outShape, values, indices);
    }

    private static int[] Unravel(int index, int[] dims)
    {
        var result = new int[dims.Length];
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            result[i] = index % dims[i];
            index /= dims[i];
        }

        return result;
    }

    public override string ToString() =>
        $"{(Max ? "MaxPool" : "AveragePool")} x={ShapeMath.Format(Shape)} k={ShapeMath.Format(Kernel)} s={ShapeMath.Format(Strides)} " +
        $"d={ShapeMath.Format(Dilations)} pads={ShapeMath.Format(Pads)} auto_pad={AutoPad} ceil={Ceil} include_pad={CountIncludePad} col={ColumnMajor}";
}
