// Voxgate agent softphone. Speaks the JSON protocol described in the Go
// package web (doc.go) over one WebSocket, and WebRTC audio for calls.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const KEYS = '123456789*0#';
  const ICE_GATHER_LIMIT_MS = 3000;

  // Everything the page knows; exposed as window.voxgateAgent for tests
  // and debugging.
  const state = {
    ws: null,
    agent: null,
    available: false,
    offer: null,      // the offer ringing, with receivedAt
    call: null,       // {offerId, from, pc, mic, startedAt}
    ring: null,       // AudioContext for the ring tone
  };
  window.voxgateAgent = state;

  // ---- connection ----------------------------------------------------

  function connect() {
    const url = new URL('agent/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    state.ws = ws;
    ws.onopen = () => {
      setLink('connected', 'ok');
      $('signin').hidden = false;
      $('signin').elements.id.focus();
    };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      const handler = handlers[msg.type];
      if (handler) handler(msg);
    };
    ws.onclose = () => {
      setLink('disconnected', 'bad');
      endCall();
      clearOffer();
      $('signin').hidden = true;
      $('desk').hidden = true;
      if (!$('status').classList.contains('error')) {
        showStatus('The connection to the gateway was lost. Reload the page to sign in again.', true);
      }
    };
  }

  function send(msg) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
  }

  // ---- messages from the gateway -------------------------------------

  const handlers = {
    ok(msg) {
      if (msg.for === 'signin') {
        state.agent = msg.agent;
        $('who').textContent = `${msg.agent.name || msg.agent.id}`;
        $('signin').hidden = true;
        $('desk').hidden = false;
        setPresence(false);
        showStatus('Signed in. Switch to Available to take calls.');
      } else if (msg.for === 'available') {
        setPresence(msg.value);
        if (msg.value && !$('status').classList.contains('error')) hideStatus();
      }
    },
    error(msg) {
      showStatus(msg.message, true);
      if (msg.for === 'signin') $('signin').querySelector('button').disabled = false;
      if (msg.for === 'accept' && state.call && state.call.offerId === msg.offerId) endCall();
    },
    queues(msg) { renderQueues(msg.queues); },
    offer(msg) {
      state.offer = { ...msg.offer, receivedAt: performance.now() };
      renderOffer();
      // The call of a voice task the agent has just accepted on the
      // desktop is answered at once, as Flex does.
      if (window.voxgateDesk && window.voxgateDesk.expectsCall(state.offer)) {
        accept();
        return;
      }
      startRinging();
    },
    withdrawn(msg) {
      if (offerIs(msg.offerId)) {
        clearOffer();
        showStatus('The caller hung up or was taken by another agent.');
      }
      if (callSettingUp(msg.offerId)) {
        endCall();
        showStatus('The caller hung up before the call connected.', true);
      }
    },
    expired(msg) {
      if (offerIs(msg.offerId)) clearOffer();
      setPresence(false);
      showStatus('You missed a call, so you were set to Offline. Switch to Available to take calls again.', true);
    },
    answer(msg) {
      const call = state.call;
      if (!call || call.offerId !== msg.offerId) return;
      call.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp }).catch((err) => {
        showStatus(`The gateway's audio answer was not accepted: ${err.message}`, true);
        send({ type: 'hangup' });
        endCall();
      });
    },
    accepted(msg) {
      const call = state.call;
      if (!call || call.offerId !== msg.offerId) return;
      call.startedAt = performance.now();
      $('call-state').textContent = 'Connected';
      hideStatus();
    },
    ended(msg) {
      if (!state.call) return;
      endCall();
      showStatus(`Call ended (${msg.reason}).`);
    },
    signedout(msg) {
      showStatus(msg.reason, true);
    },
    desk(msg) {
      state.desk = msg;
      if (window.voxgateDesk) window.voxgateDesk.render(msg);
    },
  };
  state.send = send;

  function offerIs(id) { return state.offer && state.offer.id === id; }
  function callSettingUp(id) { return state.call && state.call.offerId === id && !state.call.startedAt; }

  // ---- sign in and presence ------------------------------------------

  $('signin').addEventListener('submit', (e) => {
    e.preventDefault();
    const form = e.target;
    form.querySelector('button').disabled = true;
    hideStatus();
    send({ type: 'signin', id: form.elements.id.value.trim(), secret: form.elements.secret.value });
    form.elements.secret.value = '';
    // A user gesture: the ring tone may play from now on.
    if (!state.ring && window.AudioContext) state.ring = { ctx: new AudioContext(), timer: null };
  });

  $('presence').addEventListener('click', () => {
    send({ type: 'available', value: !state.available });
  });

  function setPresence(available) {
    state.available = available;
    const b = $('presence');
    b.textContent = available ? 'Available' : 'Offline';
    b.title = available ? 'Taking calls. Click to go Offline.' : 'Not taking calls. Click to go Available.';
    b.setAttribute('aria-pressed', String(available));
  }

  // ---- offers ----------------------------------------------------------

  function renderOffer() {
    const o = state.offer;
    $('offer-from').textContent = o.from || 'unknown';
    $('offer-queue').textContent = o.queue || '(direct call)';
    const attrs = $('offer-attrs');
    attrs.replaceChildren();
    for (const [k, v] of Object.entries(o.attributes || {})) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = typeof v === 'object' ? JSON.stringify(v) : String(v);
      attrs.append(dt, dd);
    }
    $('accept').disabled = false;
    $('reject').disabled = false;
    $('offer').hidden = false;
    tickOffer();
  }

  function tickOffer() {
    const o = state.offer;
    if (!o) return;
    const elapsed = (performance.now() - o.receivedAt) / 1000;
    $('offer-wait').textContent = clock(o.waitedSeconds + elapsed);
    $('offer-countdown').textContent = String(Math.max(0, Math.ceil(o.expiresIn - elapsed)));
  }

  function clearOffer() {
    state.offer = null;
    $('offer').hidden = true;
    stopRinging();
  }

  $('reject').addEventListener('click', () => {
    if (!state.offer) return;
    send({ type: 'reject', offerId: state.offer.id });
    clearOffer();
  });

  $('accept').addEventListener('click', () => accept());

  // ---- calls -----------------------------------------------------------

  async function accept() {
    const offer = state.offer;
    if (!offer || state.call) return;
    clearOffer();
    hideStatus();
    const call = { offerId: offer.id, from: offer.from, pc: null, mic: null, startedAt: 0 };
    state.call = call;
    $('call-from').textContent = offer.from || 'caller';
    $('call-state').textContent = 'Connecting…';
    $('call-time').textContent = '';
    setMuted(false);
    $('call').hidden = false;
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw new Error('this page must be opened over https:// (or on localhost) to use the microphone');
      }
      call.mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      if (state.call !== call) { stopTracks(call.mic); return; }
      const pc = new RTCPeerConnection({ iceServers: [] });
      call.pc = pc;
      for (const track of call.mic.getAudioTracks()) pc.addTrack(track, call.mic);
      pc.ontrack = (e) => {
        const audio = $('remote');
        audio.srcObject = e.streams[0] || new MediaStream([e.track]);
        audio.play().catch(() => {});
      };
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'failed' && state.call === call) {
          showStatus('The audio connection failed.', true);
          send({ type: 'hangup' });
          endCall();
        }
      };
      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc);
      if (state.call !== call) return;
      send({ type: 'accept', offerId: offer.id, sdp: pc.localDescription.sdp });
    } catch (err) {
      if (state.call !== call) return;
      showStatus(`Could not start the call: ${err.message}`, true);
      send({ type: 'reject', offerId: offer.id });
      endCall();
    }
  }

  // iceGathered resolves when the browser has all its candidates (the
  // gateway takes no trickled ones), or after a few seconds at most.
  function iceGathered(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); pc.removeEventListener('icegatheringstatechange', check); resolve(); };
      const check = () => { if (pc.iceGatheringState === 'complete') done(); };
      const timer = setTimeout(done, ICE_GATHER_LIMIT_MS);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  function endCall() {
    const call = state.call;
    if (!call) return;
    state.call = null;
    if (call.pc) call.pc.close();
    stopTracks(call.mic);
    $('remote').srcObject = null;
    $('call').hidden = true;
  }

  function stopTracks(stream) {
    if (stream) for (const t of stream.getTracks()) t.stop();
  }

  $('hangup').addEventListener('click', () => {
    if (!state.call) return;
    send({ type: 'hangup' });
    endCall();
    showStatus('You hung up.');
  });

  $('mute').addEventListener('click', () => {
    setMuted($('mute').getAttribute('aria-pressed') !== 'true');
  });

  function setMuted(muted) {
    const b = $('mute');
    b.setAttribute('aria-pressed', String(muted));
    b.textContent = muted ? 'Unmute' : 'Mute';
    const mic = state.call && state.call.mic;
    if (mic) for (const t of mic.getAudioTracks()) t.enabled = !muted;
  }

  for (const key of KEYS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = key;
    b.addEventListener('click', () => {
      if (state.call && state.call.startedAt) send({ type: 'dtmf', digit: key });
    });
    $('keypad').append(b);
  }

  // ---- queues ----------------------------------------------------------

  function renderQueues(queues) {
    const body = $('queues').tBodies[0];
    body.replaceChildren();
    if (!queues.length) {
      const row = body.insertRow();
      const cell = row.insertCell();
      cell.colSpan = 3;
      cell.textContent = 'You serve no queues.';
      return;
    }
    for (const q of queues) {
      const row = body.insertRow();
      row.insertCell().textContent = q.name;
      row.insertCell().textContent = String(q.size);
      row.insertCell().textContent = q.size ? clock(q.averageWait) : '–';
    }
  }

  // ---- ring tone -----------------------------------------------------

  function startRinging() {
    const ring = state.ring;
    if (!ring || ring.timer) return;
    const beep = () => {
      const ctx = ring.ctx;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 440;
      gain.gain.value = 0.08;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
    };
    beep();
    ring.timer = setInterval(beep, 2000);
  }

  function stopRinging() {
    const ring = state.ring;
    if (ring && ring.timer) { clearInterval(ring.timer); ring.timer = null; }
  }

  // ---- helpers -------------------------------------------------------

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }

  function showStatus(text, isError) {
    const p = $('status');
    p.textContent = text;
    p.classList.toggle('error', !!isError);
    p.hidden = false;
  }

  function hideStatus() {
    $('status').hidden = true;
    $('status').classList.remove('error');
  }

  function setLink(text, cls) {
    const b = $('link');
    b.textContent = text;
    b.className = `badge ${cls}`;
  }

  setInterval(() => {
    tickOffer();
    const call = state.call;
    if (call && call.startedAt) $('call-time').textContent = clock((performance.now() - call.startedAt) / 1000);
  }, 250);

  connect();
})();
