namespace Tessera.Kernels.Indexing;

/// <summary>How Pad fills positions outside the input.</summary>
internal enum PadMode
{
    Constant,
    Reflect,
    Edge,
    Wrap,
}
