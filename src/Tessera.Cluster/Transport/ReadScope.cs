namespace Tessera.Cluster.Transport;

/// <summary>
/// The tokens of one frame read: <see cref="Timeout"/> fires at the frame's deadline (or with the caller's
/// cancellation), <see cref="Cancellation"/> is the caller's alone, so a timeout can be told from a cancel.
/// </summary>
internal readonly record struct ReadScope(CancellationToken Timeout, CancellationToken Cancellation);
