using System.Runtime.CompilerServices;

namespace Tessera.Kernels.Layout;

/// <summary>
/// Up to <see cref="Capacity"/> per-axis integers held inline, so parallel copy bodies carry their dims and steps
/// without heap arrays. Views of higher rank (after simplification) copy on one thread instead.
/// </summary>
[InlineArray(Capacity)]
internal struct AxisArray
{
    public const int Capacity = 16;

    private int _element0;

    public static AxisArray From(ReadOnlySpan<int> values)
    {
        var result = default(AxisArray);
        values.CopyTo(result);
        return result;
    }
}
