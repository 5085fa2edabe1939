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
    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "X");
        int rank = x.Rank;
        var (outShape, scales) = TargetShape(context, x);
        var (roiStart, roiEnd) = Roi(context, rank);
        var taps = new AxisTaps[rank];
        for (int d = 0; d < rank; d++)
        {
            if (x.Shape[d] == 0 && outShape[d] != 0)
            {
                throw new KernelException($"Resize cannot grow empty dimension {d} to {outShape[d]}");
            }

            taps[d] = AxisTaps.Build(options, x.Shape[d], outShape[d], scales[d], roiStart[d], roiEnd[d]);
        }

        var output = context.AllocateOutput(0, x.DataType, outShape);
        if (output.Length == 0)
        {
            return;
        }

        if (options.Mode == InterpolationMode.Nearest)
        {
            NearestResize.Run(x, output, taps, options.ExtrapolationValue, context.Parallel);
        }
        else if (IsPlanar(x, taps))
        {
            BilinearPlanes.Run(x, output, taps[^2], taps[^1], context.Parallel);
        }
        else
        {
            SeparableResize.Run(x, output, taps, options.ExtrapolationValue, context.Parallel);
        }
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

    private (int[] Shape, double[] Scales) TargetShape(KernelContext context, Tensor x)
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

        var shape = new int[rank];
        var scales = new double[rank];
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

        return (shape, scales);
    }

    private (double[] Start, double[] End) Roi(KernelContext context, int rank)
    {
        var start = new double[rank];
        var end = new double[rank];
        end.AsSpan().Fill(1);
        var roi = inputs == ResizeInputs.RoiScalesSizes && options.Coordinates == CoordinateMode.TfCropAndResize ? context.Input(1) : null;
        if (roi is null || roi.Length == 0)
        {
            return (start, end);
        }

        if (roi.Length != 2 * rank)
        {
            throw new KernelException($"Resize roi has {roi.Length} values; rank {rank} needs {2 * rank}");
        }

        for (int d = 0; d < rank; d++)
        {
            start[d] = ScalarValues.ReadDouble(roi, d);
            end[d] = ScalarValues.ReadDouble(roi, d + rank);
        }

        return (start, end);
    }
}
