using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>Fills a range of Pad output rows (all dimensions but the last); one instance per computation.</summary>
internal sealed class PadRows(Tensor data, Tensor output, long[] pads, PadMode mode, Tensor constant)
{
    public void Run(int start, int end)
    {
        switch (TensorElements.KindOf(data.DataType))
        {
            case ElementKind.Size1: Run<byte>(start, end); break;
            case ElementKind.Size2: Run<ushort>(start, end); break;
            case ElementKind.Size4: Run<uint>(start, end); break;
            case ElementKind.Size8: Run<ulong>(start, end); break;
            default: Run<string>(start, end); break;
        }
    }

    private void Run<T>(int start, int end)
    {
        ReadOnlySpan<T> src = TensorElements.As<T>(data);
        Span<T> dst = TensorElements.As<T>(output);
        T fill = TensorElements.As<T>(constant)[0];
        int rank = data.Rank;
        int[] inShape = data.Shape;
        int[] outShape = output.Shape;
        int[] inStrides = ShapeMath.Strides(inShape);
        int outWidth = outShape[^1];
        int inWidth = inShape[^1];
        long begin = pads[rank - 1];

        // Output columns [lo, hi) copy input columns [lo - begin, hi - begin) in one run.
        int lo = (int)Math.Clamp(begin, 0, outWidth);
        int hi = (int)Math.Clamp(begin + inWidth, lo, outWidth);
        for (int row = start; row < end; row++)
        {
            Span<T> target = dst.Slice(row * outWidth, outWidth);
            int source = 0;
            int rest = row;
            for (int d = rank - 2; d >= 0; d--)
            {
                int o = rest % outShape[d];
                rest /= outShape[d];
                int i = PadModes.Map(o - pads[d], inShape[d], mode);
                if (i < 0)
                {
                    source = -1;
                    break;
                }

                source += i * inStrides[d];
            }

            if (source < 0 || inWidth == 0)
            {
                target.Fill(fill);
                continue;
            }

            ReadOnlySpan<T> line = src.Slice(source, inWidth);
            if (hi > lo)
            {
                line.Slice(lo - (int)begin, hi - lo).CopyTo(target.Slice(lo, hi - lo));
            }

            if (mode == PadMode.Constant)
            {
                target[..lo].Fill(fill);
                target[hi..].Fill(fill);
                continue;
            }

            for (int o = 0; o < lo; o++)
            {
                target[o] = line[PadModes.Map(o - begin, inWidth, mode)];
            }

            for (int o = hi; o < outWidth; o++)
            {
                target[o] = line[PadModes.Map(o - begin, inWidth, mode)];
            }
        }
    }
}
