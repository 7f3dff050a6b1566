// The sign-up's proof of work: find a number n such that
// SHA-256(form token + ":" + n) starts with the form's data-pow-bits zero
// bits, and send it in the "pow" field. Without this script the server
// falls back to its honeypot and minimum fill time.
(function () {
  var form = document.getElementById("signup-form");
  if (!form || !window.crypto || !crypto.subtle) return;
  var bits = parseInt(form.dataset.powBits, 10);
  var token = form.elements.csrf.value;
  var field = form.elements.pow;
  var status = document.getElementById("robot-status");
  var enc = new TextEncoder();
  var done = false, submitWanted = false;

  function zeros(buf) {
    var b = new Uint8Array(buf), n = 0;
    for (var i = 0; i < b.length; i++) {
      if (b[i] === 0) { n += 8; continue; }
      return n + Math.clz32(b[i]) - 24;
    }
    return n;
  }

  async function solve() {
    for (var n = 0; ; n++) {
      var sum = await crypto.subtle.digest("SHA-256", enc.encode(token + ":" + n));
      if (zeros(sum) >= bits) return String(n);
    }
  }

  solve().then(function (n) {
    field.value = n;
    done = true;
    status.textContent = "Not a robot: checked.";
    if (submitWanted) form.requestSubmit();
  });

  form.addEventListener("submit", function (ev) {
    if (!done) {
      ev.preventDefault();
      submitWanted = true;
      status.textContent = "Not a robot: checking, the form is sent in a moment…";
    }
  });
})();
