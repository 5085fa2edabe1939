using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Convolution;

internal sealed unsafe partial class ChannelBlockedConv
{
    private int[] _inPlaceOffsets = [];
    private int[] _inPlaceColumns = [];
    private (int Channels, int InputSize) _inPlaceOffsetsKey;
    private (int Images, int Channels, int InputWidth, int OutputWidth, int Size, int StrideH, int StrideW) _inPlaceColumnsKey;

    /// <summary>
    /// Whether the micro-kernel reads X where it is, with no layout filled: a 1x1 kernel without padding (ResNet's
    /// strided downsamples) over a channel-blocked X of one group. Each depth step is one input channel of one block
    /// and each output pixel one input pixel, so a pixel's column and a step's offset address X itself, as they
    /// address the layout the fill would copy those pixels into; the same products in the same order, so the same
    /// bits. Its columns are ints over the whole batch: X must be addressable so.
    /// </summary>
    private static bool ReadsXInPlace(ConvGeometry g, int n, int c, int group, BlockedOperands blocked)
    {
        if ((blocked & BlockedOperands.X) == 0 || group != 1 || g.KernelSize != 1 || (long)n * c * g.InputSize > int.MaxValue)
        {
            return false;
        }

        for (int d = 0; d < g.Rank; d++)
        {
            if (g.PadBegin[d] != 0 || g.PadEnd[d] != 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// <see cref="Run"/> for a convolution <see cref="ReadsXInPlace"/> takes, straight from the blocked X: image by image
    /// where <see cref="ImageByImage"/> says (an image's blocks back to back, so the X pixels read stay in L2 between
    /// them: batch-wide items read each from memory once per block), else the batch's (block, chunk) items. (The fill
    /// had copied a quarter of a stride-2 X's pixels into a layout each item then read.)
    /// </summary>
    private void RunInPlace(float* x, float* bias, float* sum, float* y, int n, int c, int m, ConvGeometry g, FusedActivation activation,
        BlockedOperands blocked, ParallelRunner parallel)
    {
        // The layout only completes the job's fields: nothing fills it.
        var unused = new InterleavedLayout(new PhaseLayout(g), c);
        var job = new Job(x, bias, sum, y, _weights, x, InPlaceOffsets(c, g.InputSize), InPlaceColumns(g, n, c), unused, g, activation, c, m,
            1, 0, 0, n, _depth, _depthBlock, blocked);
        if (ImageByImage(n, g, parallel.Degree))
        {
            var images = new InPlaceImageBody(job);
            parallel.ForChunks(n, n, ref images);
            return;
        }

        var compute = new ComputeBody(job);
        parallel.ForChunks(job.Items, job.Items, ref compute);
        if (!job.ActivationPerChunk)
        {
            var finish = new ActivationBody(job);
            int planes = n * m;
            var runner = (long)planes * g.OutputSize < 1 << 14 ? ParallelRunner.Sequential : parallel;
            runner.ForRange(planes, 1, ref finish);
        }
    }

    private readonly struct InPlaceImageBody(Job job) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int b = start; b < end; b++)
            {
                job.RunImageInPlace(b);
            }
        }
    }

    /// <summary>Offset of each depth step (input block, channel of the block) from a pixel's first float in a blocked X.</summary>
    private int* InPlaceOffsets(int channels, int inputSize)
    {
        var key = (channels, inputSize);
        if (_inPlaceOffsets.Length != channels || key != _inPlaceOffsetsKey)
        {
            _inPlaceOffsets = GC.AllocateUninitializedArray<int>(channels, pinned: true);
            for (int ci = 0; ci < channels; ci++)
            {
                _inPlaceOffsets[ci] = ci / Lanes * inputSize * Lanes + ci % Lanes;
            }

            _inPlaceOffsetsKey = key;
        }

        return (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_inPlaceOffsets));
    }

    /// <summary>For each output pixel v of the batch, the offset in the blocked X of the input pixel its 1x1 tap reads.</summary>
    private int* InPlaceColumns(ConvGeometry g, int n, int c)
    {
        int size = g.OutputSize, outW = g.Output[1], inW = g.Input[1];
        var key = (n, c, inW, outW, size, g.Strides[0], g.Strides[1]);
        if (_inPlaceColumns.Length != n * size || key != _inPlaceColumnsKey)
        {
            _inPlaceColumns = GC.AllocateUninitializedArray<int>(n * size, pinned: true);
            for (int v = 0; v < _inPlaceColumns.Length; v++)
            {
                int pos = v % size, ih = pos / outW * g.Strides[0], iw = pos % outW * g.Strides[1];
                _inPlaceColumns[v] = v / size * c * g.InputSize + (ih * inW + iw) * Lanes;
            }

            _inPlaceColumnsKey = key;
        }

        return (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_inPlaceColumns));
    }
}
