using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Shape-1/13/15: the input's dimensions as int64, optionally the [start, end) range of them (opset 15).</summary>
internal sealed class ShapeKernel(long start, long? end) : IKernel
{
    public static IKernel Create(KernelInfo info) => info.OpsetVersion >= 15
        ? new ShapeKernel(info.GetInt("start", 0), info.HasAttribute("end") ? info.GetInt("end", 0) : null)
        : new ShapeKernel(0, null);

    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        int rank = data.Rank;
        int from = Clamp(start, rank);
        int to = end is { } e ? Clamp(e, rank) : rank;
        int length = Math.Max(to - from, 0);
        var output = context.AllocateOutput(0, DataType.Int64, [length]);
        var values = output.Span<long>();
        for (int i = 0; i < length; i++)
        {
            values[i] = data.Shape[from + i];
        }
    }

    private static int Clamp(long index, int rank) => (int)Math.Clamp(index < 0 ? index + rank : index, 0, rank);
}
