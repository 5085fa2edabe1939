using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// Binary operators before opset 7 broadcast only B to A, and only with attribute broadcast=1; axis says where
/// B's dimensions start in A's (default: suffix matching). Aligning B to A's rank makes numpy rules equivalent.
/// </summary>
internal sealed class LegacyBroadcast
{
    private readonly bool _enabled;
    private readonly long? _axis;

    private LegacyBroadcast(bool enabled, long? axis)
    {
        _enabled = enabled;
        _axis = axis;
    }

    /// <summary>The rule for a node, or null when its opset already uses numpy broadcasting.</summary>
    public static LegacyBroadcast? For(KernelInfo info) => info.OpsetVersion >= 7
        ? null
        : new LegacyBroadcast(info.GetInt("broadcast", 0) != 0, info.HasAttribute("axis") ? info.GetInt("axis", 0) : null);

    public Tensor Align(string opType, Tensor a, Tensor b)
    {
        if (!_enabled)
        {
            if (!ShapeMath.SameShape(a.Shape, b.Shape))
            {
                throw new KernelException($"{opType}: shapes {ShapeMath.Format(a.Shape)} and {ShapeMath.Format(b.Shape)} differ and broadcast is not enabled");
            }

            return b;
        }

        int rank = a.Rank;
        long axis = _axis ?? rank - b.Rank;
        if (axis < 0)
        {
            axis += rank;
        }

        if (b.Length == 1 || axis < 0 || axis + b.Rank > rank)
        {
            return b.Length == 1 ? b.Reshape([]) : throw new KernelException(
                $"{opType}: shape {ShapeMath.Format(b.Shape)} cannot broadcast to {ShapeMath.Format(a.Shape)} at axis {_axis}");
        }

        var shape = new int[rank];
        Array.Fill(shape, 1);
        b.Shape.CopyTo(shape, (int)axis);
        return b.Reshape(shape);
    }
}
