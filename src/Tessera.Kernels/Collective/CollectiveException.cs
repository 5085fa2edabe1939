namespace Tessera.Kernels.Collective;

/// <summary>
/// A collective could not complete: a rank did not arrive in time, the ranks disagreed on the key or the block
/// length, or the group was aborted. The engine reports it as one line naming the node.
/// </summary>
/// <remarks>
/// An <see cref="InvalidOperationException"/> so the engine keeps its message as the cause (not "internal error").
/// Not sealed: a network communicator tells a rank it could not reach (a route failure) from one that failed.
/// </remarks>
public class CollectiveException(string message) : InvalidOperationException(message);
