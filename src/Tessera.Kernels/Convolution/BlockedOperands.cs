namespace Tessera.Kernels.Convolution;

/// <summary>
/// Which float32 operands of a Conv are stored channel-blocked (<see cref="ChannelBlockedLayout"/>) instead of NCHW:
/// chosen per node by the engine's channel-block-layout pass, read by <see cref="ConvKernel"/> from the node's
/// attributes x_blocked, sum_blocked and y_blocked.
/// </summary>
[Flags]
internal enum BlockedOperands
{
    None = 0,
    X = 1,
    Sum = 2,
    Y = 4,
}
