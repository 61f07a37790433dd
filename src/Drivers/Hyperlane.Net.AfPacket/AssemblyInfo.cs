using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Hyperlane.Net.AfPacket.Tests")]
