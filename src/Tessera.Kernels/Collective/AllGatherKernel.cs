using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Collective;

/// <summary>
/// com.tessera AllGather: the ranks' inputs (all of one shape) concatenated along `axis` in rank order, so the output
/// has Size times the input's extent on that axis.
/// </summary>
internal sealed class AllGatherKernel(ICollectiveCommunicator communicator, string key, int axis) : IKernel
{
    // Rank-major gathered blocks, reordered into the output when the axis is not the outermost.
    private byte[] _scratch = [];

    public static IKernel Create(KernelInfo info)
    {
        var (communicator, key) = CollectiveKernels.Bind(info);
        if (!info.HasAttribute("axis"))
        {
            throw new KernelException($"AllGather '{key}' needs an int attribute 'axis'");
        }

        return new AllGatherKernel(communicator, key, (int)info.GetRequiredInt("axis"));
    }

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0);
        if (input.DataType == DataType.String)
        {
            throw new KernelException($"AllGather '{key}' cannot gather string tensors");
        }

        int rank = input.Rank;
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
        {
            throw new KernelException($"AllGather '{key}': axis {axis} is out of range for {input}");
        }

        int size = communicator.Size;
        var shape = (int[])input.Shape.Clone();
        shape[a] = checked(shape[a] * size);
        var output = context.AllocateOutput(0, input.DataType, shape);

        int outer = 1;
        for (int i = 0; i < a; i++) outer *= input.Shape[i];
        if (outer == 1 || input.Length == 0)
        {
            communicator.AllGather(key, input.Bytes, output.Bytes);
            return;
        }

        int localBytes = input.ByteLength;
        if (_scratch.Length < (long)localBytes * size)
        {
            _scratch = new byte[checked(localBytes * size)];
        }

        var gathered = _scratch.AsSpan(0, localBytes * size);
        communicator.AllGather(key, input.Bytes, gathered);

        // Rank r's block holds `outer` chunks of `chunk` bytes; output chunk (o, r) sits at (o * size + r).
        int chunk = localBytes / outer;
        var target = output.Bytes;
        for (int o = 0; o < outer; o++)
        {
            for (int r = 0; r < size; r++)
            {
                gathered.Slice((r * localBytes) + (o * chunk), chunk).CopyTo(target.Slice(((o * size) + r) * chunk, chunk));
            }
        }
    }
}
