// Connects with MariaDB Connector/J (the JDBC URL is the one argument, so a test shows every
// option it relies on) and prints the session's TLS status and the account it was matched to.
// Run: java -cp mariadb-java-client.jar ConnectorJ.java 'jdbc:mariadb://HOST:PORT/?user=…&useSsl=true&…'
// Exit 0 with "Ssl_cipher=…", "Ssl_version=…", "current_user=…" lines; on failure the exception, exit 1.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

public class ConnectorJ {
  public static void main(String[] a) {
    try (Connection c = DriverManager.getConnection(a[0]); Statement s = c.createStatement()) {
      try (ResultSet r = s.executeQuery("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_cipher', 'Ssl_version')")) {
        while (r.next()) System.out.println(r.getString(1) + "=" + r.getString(2));
      }
      try (ResultSet r = s.executeQuery("SELECT CURRENT_USER()")) {
        r.next();
        System.out.println("current_user=" + r.getString(1));
      }
      System.out.println("driver=" + c.getMetaData().getDriverVersion());
      System.exit(0);
    } catch (Exception e) {
      System.err.println(e.getClass().getName() + ": " + e.getMessage());
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) System.err.println("caused by " + c.getClass().getName() + ": " + c.getMessage());
      System.exit(1);
    }
  }
}
