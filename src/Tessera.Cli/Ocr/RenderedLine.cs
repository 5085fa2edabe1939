namespace Tessera.Cli.Ocr;

/// <summary>A line of text drawn on a page: what it says and the rectangle its glyphs cover.</summary>
internal sealed record RenderedLine(int Page, string Text, double Left, double Top, double Right, double Bottom, bool UpsideDown)
{
    public bool Contains(Point p) => p.X >= Left && p.X <= Right && p.Y >= Top && p.Y <= Bottom;
}
