namespace Tessera.Serving.Http2;

/// <summary>Starts the call of a stream whose request fields have arrived, on the connection's loop.</summary>
internal interface IHttp2CallFactory
{
    /// <param name="requestEnded">The fields came with END_STREAM: the request has no body.</param>
    IHttp2Call Start(Http2Stream stream, Http2FrameWriter writer, bool requestEnded);
}
