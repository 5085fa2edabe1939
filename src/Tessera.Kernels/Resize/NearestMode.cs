namespace Tessera.Kernels.Resize;

/// <summary>How a nearest-mode Resize rounds a fractional source coordinate.</summary>
internal enum NearestMode
{
    RoundPreferFloor,
    RoundPreferCeil,
    Floor,
    Ceil,

    /// <summary>Resize-10 and Upsample: floor when upsampling, ceil when downsampling (as ONNX Runtime does).</summary>
    Simple,
}
