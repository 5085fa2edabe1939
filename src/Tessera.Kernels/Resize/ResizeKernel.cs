using Tessera.Kernels.Core;
using Tessera.Kernels.Indexing;
using Tessera.Tensors;

namespace Tessera.Kernels.Resize;

/// <summary>
/// Resize (opsets 10, 11, 13) and Upsample (7, 9). Builds per-axis taps once per call, then runs nearest as a word
/// gather, float32 bilinear over the last two axes on the fast plane path, and everything else separably.
/// </summary>
internal sealed class ResizeKernel(ResizeOptions options, ResizeInputs inputs, float[]? attributeScales) : IKernel
{
    // The plan of the last call and the extrapolation value as a one-element tensor of the last input type:
    // a kernel never runs concurrently with itself, and fixed shapes then reuse both.
    private ResizePlan? _plan;
    private Tensor? _fill;
    private readonly double[]?[] _separableScratch = new double[]?[2];

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "X");
        int rank = x.Rank;
        Span<int> outShape = stackalloc int[rank];
        Span<double> scales = stackalloc double[rank];
        Span<double> roi = stackalloc double[2 * rank];
        TargetShape(context, x, outShape, scales);
        Roi(context, rank, roi);
        var plan = _plan is not null && _plan.Matches(x.Shape, outShape, scales, roi) ? _plan : (_plan = Plan(x, outShape, scales, roi));
        AxisTaps[] taps = plan.Taps;

        var output = context.AllocateOutput(0, x.DataType, plan.OutputShape);
        if (output.Length == 0)
        {
            return;
        }

        if (options.Mode == InterpolationMode.Nearest)
        {
            if (_fill is null || _fill.DataType != x.DataType)
            {
                _fill = ScalarValues.Make(x.DataType, options.ExtrapolationValue);
            }

            NearestResize.Run(x, output, plan, _fill, context.Parallel);
        }
        else if (IsPlanar(x, taps))
        {
            BilinearPlanes.Run(x, output, taps[^2], plan.Columns, context.Parallel);
        }
        else
        {
            SeparableResize.Run(x, output, taps, options.ExtrapolationValue, context.Parallel, _separableScratch);
        }
    }

    private ResizePlan Plan(Tensor x, ReadOnlySpan<int> outShape, ReadOnlySpan<double> scales, ReadOnlySpan<double> roi)
    {
        int rank = x.Rank;
        var taps = new AxisTaps[rank];
        for (int d = 0; d < rank; d++)
        {
            if (x.Shape[d] == 0 && outShape[d] != 0)
            {
                throw new KernelException($"Resize cannot grow empty dimension {d} to {outShape[d]}");
            }

            taps[d] = AxisTaps.Build(options, x.Shape[d], outShape[d], scales[d], roi[d], roi[d + rank]);
        }

        return new ResizePlan(taps, x.Shape, outShape, scales, roi);
    }

    /// <summary>Float32 linear where only the last two axes resample and nothing extrapolates.</summary>
    private bool IsPlanar(Tensor x, AxisTaps[] taps)
    {
        if (x.DataType != DataType.Float32 || options.Mode != InterpolationMode.Linear || x.Rank < 2)
        {
            return false;
        }

        for (int d = 0; d < taps.Length - 2; d++)
        {
            if (!taps[d].IsIdentity)
            {
                return false;
            }
        }

        return taps[^1].Outside is null && taps[^2].Outside is null;
    }

    private void TargetShape(KernelContext context, Tensor x, Span<int> shape, Span<double> scales)
    {
        int rank = x.Rank;
        Tensor? scalesTensor = inputs switch
        {
            ResizeInputs.Scales => context.RequiredInput(1, "scales"),
            ResizeInputs.RoiScalesSizes => context.Input(2),
            _ => null,
        };
        Tensor? sizesTensor = inputs == ResizeInputs.RoiScalesSizes ? context.Input(3) : null;
        bool hasScales = attributeScales is not null || scalesTensor is { Length: > 0 };
        bool hasSizes = sizesTensor is { Length: > 0 };
        if (hasScales == hasSizes)
        {
            throw new KernelException("Resize needs exactly one of scales and sizes");
        }

        int given = hasSizes ? sizesTensor!.Length : attributeScales?.Length ?? scalesTensor!.Length;
        if (given != rank)
        {
            throw new KernelException($"Resize {(hasSizes ? "sizes" : "scales")} has {given} values for input of rank {rank}");
        }

        for (int d = 0; d < rank; d++)
        {
            int inSize = x.Shape[d];
            if (hasSizes)
            {
                long size = ScalarValues.ReadInt64(sizesTensor!, d);
                if (size < 0 || size > int.MaxValue)
                {
                    throw new KernelException($"Resize size {size} for dimension {d} is invalid");
                }

                shape[d] = (int)size;
                scales[d] = inSize == 0 ? 1 : (double)size / inSize;
            }
            else
            {
                double scale = attributeScales is not null ? attributeScales[d] : ScalarValues.ReadDouble(scalesTensor!, d);
                if (!(scale > 0) || double.IsInfinity(scale))
                {
                    throw new KernelException($"Resize scale {scale} for dimension {d} must be positive");
                }

                double size = Math.Floor(inSize * scale);
                if (size > int.MaxValue)
                {
                    throw new KernelException($"Resize scale {scale} makes dimension {d} too large");
                }

                shape[d] = (int)size;
                scales[d] = scale;
            }
        }

    }

    /// <summary>The roi starts then ends (0 and 1 when there is none) into <paramref name="roi"/> (2·rank long).</summary>
    private void Roi(KernelContext context, int rank, Span<double> roi)
    {
        roi[..rank].Clear();
        roi[rank..].Fill(1);
        var given = inputs == ResizeInputs.RoiScalesSizes && options.Coordinates == CoordinateMode.TfCropAndResize ? context.Input(1) : null;
        if (given is null || given.Length == 0)
        {
            return;
        }

        if (given.Length != 2 * rank)
        {
            throw new KernelException($"Resize roi has {given.Length} values; rank {rank} needs {2 * rank}");
        }

        for (int i = 0; i < 2 * rank; i++)
        {
            roi[i] = ScalarValues.ReadDouble(given, i);
        }
    }
}
