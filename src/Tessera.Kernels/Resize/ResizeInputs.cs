namespace Tessera.Kernels.Resize;

/// <summary>Where a Resize-like node takes its target size from, which changed across opsets.</summary>
internal enum ResizeInputs
{
    /// <summary>Upsample-7: a scales attribute.</summary>
    ScalesAttribute,

    /// <summary>Upsample-9 and Resize-10: (X, scales).</summary>
    Scales,

    /// <summary>Resize-11 and later: (X, roi, scales, sizes), with exactly one of scales and sizes non-empty.</summary>
    RoiScalesSizes,
}
