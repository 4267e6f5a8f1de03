using Npgsql;

namespace Steward.State.PostgreSql;

/// <summary>
/// Where the state lives: a <c>postgresql://user:password@host:port/database?sslmode=…</c> URI or an Npgsql
/// <c>Host=…;Username=…</c> string. It may hold a password, so it is never shown: <see cref="ToString"/> and
/// <see cref="Description"/> say the host, port, database and user only, and a malformed one is reported without its text.
/// </summary>
public sealed class PostgreSqlConnection
{
    private readonly NpgsqlConnectionStringBuilder _builder;

    private PostgreSqlConnection(NpgsqlConnectionStringBuilder builder) => _builder = builder;

    /// <summary>host:port/database as user, with nothing secret.</summary>
    public string Description => $"{_builder.Host}:{_builder.Port}/{_builder.Database ?? _builder.Username} as {_builder.Username}";

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="problem"/> says what is wrong without quoting it.</summary>
    public static bool TryParse(string? text, out PostgreSqlConnection? connection, out string problem)
    {
        connection = null;
        problem = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "empty";
            return false;
        }

        var builder = new NpgsqlConnectionStringBuilder();
        try
        {
            if (text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase))
            {
                if (!FromUri(text, builder, out problem))
                {
                    return false;
                }
            }
            else
            {
                builder.ConnectionString = text;
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            // Npgsql's message may quote the string, password and all.
            problem = "not a PostgreSQL URI (postgresql://user:password@host:port/database) nor a Host=…;Username=… connection string";
            return false;
        }

        if (string.IsNullOrEmpty(builder.Host) || string.IsNullOrEmpty(builder.Username))
        {
            problem = "names no host or no user";
            return false;
        }

        builder.ApplicationName ??= "steward-broker";
        connection = new PostgreSqlConnection(builder);
        return true;
    }

    /// <summary>A pooled data source for this connection.</summary>
    public NpgsqlDataSource CreateDataSource() => NpgsqlDataSource.Create(_builder.ConnectionString);

    public override string ToString() => Description;

    private static bool FromUri(string text, NpgsqlConnectionStringBuilder builder, out string problem)
    {
        problem = string.Empty;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            problem = "not a PostgreSQL URI (postgresql://user:password@host:port/database)";
            return false;
        }

        builder.Host = uri.Host.Trim('[', ']');
        builder.Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port;
        var user = uri.UserInfo.Split(':', 2);
        builder.Username = Uri.UnescapeDataString(user[0]);
        if (user.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(user[1]);
        }

        if (uri.AbsolutePath.Trim('/') is { Length: > 0 } database)
        {
            builder.Database = Uri.UnescapeDataString(database);
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            try
            {
                builder[key] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
            {
                problem = $"its parameter '{key}' is not one Npgsql knows";
                return false;
            }
        }

        return true;
    }
}
