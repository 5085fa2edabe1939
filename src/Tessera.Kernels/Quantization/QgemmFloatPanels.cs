using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The float epilogues of all of a product's whole 16-column panels (<see cref="QgemmFloatPanel"/>), set once per
/// product before its jobs start rather than by every row block that sweeps the panel: a weight product of 1024 rows
/// runs 12 blocks over each panel.
/// </summary>
internal static unsafe class QgemmFloatPanels
{
    // The calling thread's panels, grown on demand and kept (pinned: the jobs on the pool's threads read them through
    // the pointer in QgemmOutput.Panels until the product returns).
    [ThreadStatic]
    private static QgemmFloatPanel[]? t_panels;

    /// <summary>Panel p's epilogue at [p], for p below <paramref name="b"/>'s whole panels; null when the output has no float panels.</summary>
    public static QgemmFloatPanel* Build(in QgemmOutput output, QgemmPackedB b)
    {
        if (!b.Config.HasFloatTiles || !output.HasFloatPanels) return null;
        int count = b.N / QgemmConfig.Nr;
        if (count == 0) return null;
        if (t_panels is null || t_panels.Length < count) t_panels = GC.AllocateArray<QgemmFloatPanel>(Math.Max(count, 64), pinned: true);
        var panels = (QgemmFloatPanel*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_panels));
        for (int p = 0; p < count; p++) panels[p].Set(output, p * QgemmConfig.Nr);
        return panels;
    }
}
