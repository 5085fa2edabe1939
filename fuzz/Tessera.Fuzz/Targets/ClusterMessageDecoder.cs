using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;

namespace Tessera.Fuzz.Targets;

/// <summary>Every wire message's decoder, chosen by frame type, as the worker and the coordinator call them on a received payload.</summary>
internal static class ClusterMessageDecoder
{
    /// <summary>The frame types whose payload has a decoder of its own.</summary>
    public static readonly FrameType[] Decoded =
        [FrameType.Hello, FrameType.Challenge, FrameType.Error, FrameType.Ready, FrameType.Pong, FrameType.ModelLoaded, FrameType.ModelCosts, FrameType.Run, FrameType.Result, FrameType.Collective];

    public static void Decode(FrameType type, ReadOnlySpan<byte> payload, int blockLength)
    {
        switch (type)
        {
            case FrameType.Hello: HelloMessage.Read(payload); break;
            case FrameType.Challenge: ChallengeMessage.Read(payload); break;
            case FrameType.Error: ErrorMessage.Read(payload); break;
            case FrameType.Ready or FrameType.Pong: WorkerInfo.Read(payload); break;
            case FrameType.ModelLoaded: ModelLoadedMessage.Read(payload); break;
            case FrameType.ModelCosts: ModelCostsMessage.Read(payload); break;
            case FrameType.Run or FrameType.Result: RunMessage.Read(payload); break;
            case FrameType.Collective: CollectiveMessage.Read(payload, blockLength); break;
        }
    }
}
