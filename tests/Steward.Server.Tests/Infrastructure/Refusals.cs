using System.Net.Sockets;

namespace Steward.Server.Tests.Infrastructure;

/// <summary>
/// What "it stopped working" must mean in a test: the server's own refusal or a connection the server
/// ended or no longer accepts, never just any exception (a bug in the test's own client would pass too).
/// </summary>
public static class Refusals
{
    /// <summary>The server ended an open session: it said so (PostgreSQL 57P01, "terminating connection due to
    /// administrator command") or closed or reset the connection.</summary>
    public static void ShouldBeEndedByTheServer(this Exception ex)
    {
        var ok = ex switch
        {
            Npgsql.PostgresException pg => pg.SqlState == "57P01",
            Npgsql.NpgsqlException { InnerException: IOException or EndOfStreamException } => true,
            Steward.Engines.Redis.Resp.RespException resp => resp.Message == "connection closed by the server",
            IOException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown } } => true,
            _ => false,
        };
        ok.ShouldBeTrue($"expected the server to end the session, got {ex.GetType().Name}: {ex.Message}");
    }

    /// <summary>Nothing listens any more on the instance's port (or, should another instance reuse the port, it
    /// refuses these credentials).</summary>
    public static void ShouldBeNoServerForTheseCredentials(this Exception ex)
    {
        var ok = ex switch
        {
            SocketException { SocketErrorCode: SocketError.ConnectionRefused } => true,
            Npgsql.NpgsqlException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } => true,
            Npgsql.PostgresException pg => pg.SqlState == "28P01",
            Steward.Engines.Redis.Resp.RespException resp => resp.Message.Contains("WRONGPASS", StringComparison.Ordinal),
            _ => false,
        };
        ok.ShouldBeTrue($"expected no server for these credentials, got {ex.GetType().Name}: {ex.Message}");
    }
}
