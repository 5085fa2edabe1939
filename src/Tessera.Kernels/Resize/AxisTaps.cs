namespace Tessera.Kernels.Resize;

/// <summary>
/// For one axis, which input positions (taps) and weights make each output position: one tap for nearest,
/// two for linear, four for cubic. Computed once per call so inner loops only gather and blend.
/// </summary>
internal sealed class AxisTaps
{
    private AxisTaps(int inSize, int outSize, int tapCount)
    {
        InSize = inSize;
        OutSize = outSize;
        TapCount = tapCount;
        Index = new int[outSize * tapCount];
        Weight = new double[outSize * tapCount];
    }

    public int InSize { get; }

    public int OutSize { get; }

    public int TapCount { get; }

    /// <summary>Input index of tap t of output o at [o * TapCount + t], clamped into the input (edge padding).</summary>
    public int[] Index { get; }

    public double[] Weight { get; }

    /// <summary>Output positions that take the extrapolation value (tf_crop_and_resize outside the input), or null.</summary>
    public bool[]? Outside { get; private set; }

    /// <summary>True when every output position copies the input at the same position.</summary>
    public bool IsIdentity { get; private set; }

    /// <param name="scale">Output size over input size (the given scale, or sizes / input).</param>
    public static AxisTaps Build(ResizeOptions options, int inSize, int outSize, double scale, double roiStart, double roiEnd)
    {
        int tapCount = options.Mode switch
        {
            InterpolationMode.Nearest => 1,
            InterpolationMode.Linear => 2,
            _ => 4,
        };
        var taps = new AxisTaps(inSize, outSize, tapCount);
        bool identity = inSize == outSize;
        for (int o = 0; o < outSize; o++)
        {
            double x = Original(options.Coordinates, o, scale, inSize, roiStart, roiEnd);
            if (options.Coordinates == CoordinateMode.TfCropAndResize && (x < 0 || x > inSize - 1))
            {
                (taps.Outside ??= new bool[outSize])[o] = true;
                identity = false;
                for (int t = 0; t < tapCount; t++)
                {
                    taps.Index[o * tapCount + t] = 0;
                }

                continue;
            }

            taps.Fill(options, o, x, scale);
            identity &= taps.Copies(o, o);
        }

        taps.IsIdentity = identity;
        return taps;
    }

    /// <summary>The input coordinate that output position <paramref name="o"/> maps to.</summary>
    public static double Original(CoordinateMode mode, int o, double scale, int inSize, double roiStart, double roiEnd)
    {
        // The reference takes the resized length as scale * input length, not the rounded output size.
        double resized = scale * inSize;
        return mode switch
        {
            CoordinateMode.HalfPixel => (o + 0.5) / scale - 0.5,
            CoordinateMode.PytorchHalfPixel => resized > 1 ? (o + 0.5) / scale - 0.5 : 0,
            CoordinateMode.AlignCorners => resized == 1 ? 0 : o * (double)(inSize - 1) / (resized - 1),
            CoordinateMode.Asymmetric => o / scale,
            CoordinateMode.TfHalfPixelForNn => (o + 0.5) / scale,
            _ => resized > 1
                ? roiStart * (inSize - 1) + o * (roiEnd - roiStart) * (inSize - 1) / (resized - 1)
                : 0.5 * (roiStart + roiEnd) * (inSize - 1),
        };
    }

    private void Fill(ResizeOptions options, int o, double x, double scale)
    {
        int at = o * TapCount;
        double floor = Math.Floor(x);
        double frac = x - floor;
        int f = (int)Math.Clamp(floor, int.MinValue / 2, int.MaxValue / 2);
        switch (options.Mode)
        {
            case InterpolationMode.Nearest:
                int n = options.Nearest switch
                {
                    NearestMode.RoundPreferFloor => frac <= 0.5 ? f : f + 1,
                    NearestMode.RoundPreferCeil => frac < 0.5 ? f : f + 1,
                    NearestMode.Floor => f,
                    NearestMode.Simple when scale >= 1 => f,
                    _ => frac > 0 ? f + 1 : f,
                };
                Index[at] = Clamp(n);
                Weight[at] = 1;
                break;
            case InterpolationMode.Linear:
                Index[at] = Clamp(f);
                Index[at + 1] = Clamp(f + 1);
                Weight[at] = 1 - frac;
                Weight[at + 1] = frac;
                break;
            default:
                FillCubic(options, at, f, frac);
                break;
        }
    }

    private void FillCubic(ResizeOptions options, int at, int f, double t)
    {
        double a = options.CubicCoeffA;
        Span<double> w =
        [
            ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
            ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a,
        ];
        double sum = 0;
        for (int k = 0; k < 4; k++)
        {
            int i = f - 1 + k;
            if (options.ExcludeOutside && (i < 0 || i >= InSize))
            {
                w[k] = 0;
            }

            sum += w[k];
        }

        for (int k = 0; k < 4; k++)
        {
            Index[at + k] = Clamp(f - 1 + k);
            Weight[at + k] = options.ExcludeOutside ? w[k] / sum : w[k];
        }
    }

    private int Clamp(int i) => Math.Clamp(i, 0, InSize - 1);

    /// <summary>Whether output <paramref name="o"/> is exactly input <paramref name="i"/>.</summary>
    private bool Copies(int o, int i)
    {
        double self = 0;
        for (int t = 0; t < TapCount; t++)
        {
            double w = Weight[o * TapCount + t];
            if (Index[o * TapCount + t] == i)
            {
                self += w;
            }
            else if (w != 0)
            {
                return false;
            }
        }

        return self == 1;
    }
}
