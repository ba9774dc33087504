// A minimal Java TLS client for the tests: mutual TLS with a key store and a trust store, the
// server's name checked against its SANs (endpoint identification "HTTPS"), one line read back.
// Run: java TlsClient.java HOST PORT SERVERNAME KEYSTORE|- KSTYPE KSPASS TRUSTSTORE TSTYPE TSPASS
// Prints protocol, cipher, the peer's subject and the line, exit 0; on failure the exception, exit 1.
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class TlsClient {
  static KeyStore load(String path, String type, String pass) throws Exception {
    KeyStore ks = KeyStore.getInstance(type);
    try (InputStream in = new FileInputStream(path)) {
      ks.load(in, pass.toCharArray());
    }
    return ks;
  }

  public static void main(String[] a) {
    try {
      KeyManagerFactory kmf = null;
      if (!a[3].equals("-")) {
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load(a[3], a[4], a[5]), a[5].toCharArray()); // key password = store password
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(load(a[6], a[7], a[8]));
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      int port = Integer.parseInt(a[1]);
      Socket raw = new Socket(a[0], port);
      raw.setSoTimeout(10_000);
      // Layered on a connected socket so that SERVERNAME (not the dialled address) is what gets checked.
      try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, a[2], port, true)) {
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.startHandshake();
        String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (line == null) throw new java.io.EOFException("connection closed before the server's line");
        System.out.println("protocol=" + s.getSession().getProtocol());
        System.out.println("cipher=" + s.getSession().getCipherSuite());
        System.out.println("peer=" + s.getSession().getPeerPrincipal().getName());
        System.out.println("line=" + line);
      }
      System.exit(0);
    } catch (Exception e) {
      System.err.println(e.getClass().getName() + ": " + e.getMessage());
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) System.err.println("caused by " + c.getClass().getName() + ": " + c.getMessage());
      System.exit(1);
    }
  }
}
