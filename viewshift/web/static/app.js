// The page of `viewshift serve`: upload, depth, sliders -> moved view (rendered on the server), a three.js
// preview of the photo on its depth mesh, downloads and background jobs. Talks to the routes of viewshift/web/app.py.
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";

const MOVES = ["right", "up", "forward", "yaw", "pitch", "roll"];
const $ = (id) => document.getElementById(id);
const state = { config: null, upload: null, source: "builtin", info: null, busy: false, pending: false, viewUrl: null };

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

async function errorOf(response) {
  try { return (await response.json()).error || response.statusText; } catch { return response.statusText; }
}

async function api(method, url, body) {
  const response = await fetch(url, { method, body });
  if (!response.ok) throw new Error(await errorOf(response));
  return response.json();
}

// ------------------------------------------------------------------------------------------------- controls

function move() {
  const m = {};
  for (const k of MOVES) m[k] = parseFloat($(`slider-${k}`).value);
  m.divergence = parseFloat($("slider-divergence").value);
  return m;
}

function moveQuery() {
  const m = move();
  const q = new URLSearchParams({ source: state.source });
  for (const k of MOVES) if (m[k] !== 0) q.set(k, String(m[k]));
  if (m.divergence > 0) q.set("divergence", String(m.divergence));
  return q;
}

function buildControls(config) {
  const box = $("sliders");
  for (const k of MOVES) {
    const limit = config.move_limits[k];
    const label = document.createElement("label");
    label.innerHTML = `${k} <input id="slider-${k}" type="range" min="${-limit}" max="${limit}" ` +
      `step="${limit / 200}" value="0"> <output id="value-${k}">0</output>`;
    box.appendChild(label);
  }
  for (const input of document.querySelectorAll("#move input[type=range]")) {
    input.addEventListener("input", () => {
      $(input.id.replace("slider-", "value-")).textContent = input.value;
      onMove();
    });
  }
  $("reset-btn").addEventListener("click", () => {
    for (const input of document.querySelectorAll("#move input[type=range]")) {
      input.value = "0";
      $(input.id.replace("slider-", "value-")).textContent = "0";
    }
    onMove();
  });
  for (const layout of config.layouts) $("layout-select").add(new Option(layout, layout));
  for (const path of config.video_paths) $("path-select").add(new Option(path, path));
  $("layout-select").addEventListener("change", updateLinks);
  $("video-btn").addEventListener("click", () => startJob("video", { path: $("path-select").value }));
  for (const [name, format] of Object.entries(config.formats)) {
    const button = document.createElement("button");
    button.type = "button";
    button.id = `export-${name}`;
    button.textContent = name;
    button.title = format.about;
    button.disabled = true;
    button.addEventListener("click", () => startJob(name, {}));
    $("export-buttons").appendChild(button);
  }
}

function setEnabled(on) {
  for (const el of document.querySelectorAll("#downloads button, #source-select, #depth-file-input")) el.disabled = !on;
  for (const el of document.querySelectorAll("#downloads a.button")) el.classList.toggle("disabled", !on);
}

function updateLinks() {
  if (!state.upload) return;
  const base = `/api/uploads/${state.upload.id}`;
  const q = moveQuery();
  q.set("download", "1");
  $("download-view").href = `${base}/view.png?${q}`;
  const s = new URLSearchParams({ source: state.source, layout: $("layout-select").value });
  const divergence = move().divergence;
  if (divergence > 0) s.set("divergence", String(divergence));
  $("download-stereo").href = `${base}/stereo.png?${s}`;
}

// ------------------------------------------------------------------------------------------------- uploads

async function onUploaded(upload) {
  state.upload = upload;
  state.info = null;
  const select = $("source-select");
  select.innerHTML = "";
  for (const name of upload.sources) select.add(new Option(name, name));
  state.source = upload.sources.includes(state.source) ? state.source : "builtin";
  select.value = state.source;
  $("photo-img").src = `/api/uploads/${upload.id}/photo.jpg`;
  setEnabled(true);
  await loadDepth();
}

async function loadDepth() {
  const id = state.upload.id;
  status(`estimating depth (${state.source})…`);
  try {
    const response = await fetch(`/api/uploads/${id}/depth.png?source=${encodeURIComponent(state.source)}`);
    if (!response.ok) throw new Error(await errorOf(response));
    $("depth-img").src = URL.createObjectURL(await response.blob());
    state.info = await api("GET", `/api/uploads/${id}/info?source=${encodeURIComponent(state.source)}`);
  } catch (err) {
    status(err.message, true);
    return;
  }
  onMove();
  loadPreview();
}

async function uploadFile(file) {
  status(`uploading ${file.name}…`);
  try {
    await onUploaded(await api("POST", `/api/uploads?name=${encodeURIComponent(file.name)}`, file));
  } catch (err) {
    status(err.message, true);
  }
}

// ---------------------------------------------------------------------------------------------- the view

function onMove() {
  updateLinks();
  preview.follow();
  if (state.busy) { state.pending = true; return; }
  renderView();
}

async function renderView() {
  if (!state.upload || !state.info) return;
  state.busy = true;
  state.pending = false;
  const query = moveQuery().toString();
  const started = performance.now();
  status("rendering…");
  try {
    const response = await fetch(`/api/uploads/${state.upload.id}/view.png?${query}`);
    if (!response.ok) throw new Error(await errorOf(response));
    const url = URL.createObjectURL(await response.blob());
    const img = $("view-img");
    await new Promise((resolve) => { img.onload = resolve; img.onerror = resolve; img.src = url; });
    if (state.viewUrl) URL.revokeObjectURL(state.viewUrl);
    state.viewUrl = url;
    img.dataset.query = query;
    status(`view rendered in ${Math.round(performance.now() - started)} ms`);
  } catch (err) {
    status(err.message, true);
  } finally {
    state.busy = false;
    if (state.pending) renderView();
  }
}

// ------------------------------------------------------------------------------------------------- jobs

async function startJob(kind, params) {
  const q = new URLSearchParams({ kind, source: state.source, ...params });
  const divergence = move().divergence;
  if (divergence > 0 && kind !== "video") q.set("divergence", String(divergence));
  const row = document.createElement("div");
  row.className = "job";
  row.innerHTML = `<span>${kind}</span><progress max="1" value="0"></progress><span class="state">queued</span>`;
  $("jobs").prepend(row);
  let job;
  try {
    job = await api("POST", `/api/uploads/${state.upload.id}/jobs?${q}`);
  } catch (err) {
    row.querySelector(".state").textContent = err.message;
    return;
  }
  row.dataset.job = job.id;
  while (job.state === "queued" || job.state === "running") {
    await new Promise((resolve) => setTimeout(resolve, 400));
    job = await api("GET", `/api/jobs/${job.id}`);
    row.querySelector("progress").max = job.total;
    row.querySelector("progress").value = job.done;
    row.querySelector(".state").textContent = `${job.state} ${job.done}/${job.total}`;
  }
  if (job.state === "failed") {
    row.querySelector(".state").textContent = job.error;
    return;
  }
  const link = document.createElement("a");
  link.href = `/api/jobs/${job.id}/file`;
  link.download = job.filename;
  link.textContent = job.filename;
  link.className = "job-file";
  row.querySelector(".state").replaceWith(link);
  link.click();
}

// ------------------------------------------------------------------------------------------- 3-D preview

const preview = {
  renderer: null, scene: null, camera: null, controls: null, mesh: null,

  init() {
    const box = $("preview");
    try {
      this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    } catch (err) {
      box.innerHTML = '<div class="note">no WebGL in this browser: 3-D preview off</div>';
      return;
    }
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    box.appendChild(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0x111111);
    this.camera = new THREE.PerspectiveCamera(50, 4 / 3, 0.01, 1000);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.addEventListener("change", () => this.draw());
    new ResizeObserver(() => this.resize()).observe(box);
    this.resize();
  },

  resize() {
    if (!this.renderer) return;
    const box = $("preview");
    this.renderer.setSize(box.clientWidth, box.clientHeight, false);
    this.camera.aspect = box.clientWidth / Math.max(1, box.clientHeight);
    this.camera.updateProjectionMatrix();
    this.draw();
  },

  // Put the camera where the sliders say: glTF axes (x right, y up, looking down -z), OpenCV move conventions.
  follow() {
    if (!this.renderer || !state.info || !state.upload) return;
    const m = move();
    const median = state.info.depth_median;
    this.camera.fov = (2 * Math.atan(state.upload.height / 2 / state.info.focal) * 180) / Math.PI;
    this.camera.position.set(m.right, m.up, -m.forward);
    this.camera.rotation.order = "YXZ";
    const rad = Math.PI / 180;
    this.camera.rotation.set(m.pitch * rad, -m.yaw * rad, -m.roll * rad);
    this.camera.updateProjectionMatrix();
    const ahead = new THREE.Vector3(0, 0, -median).applyQuaternion(this.camera.quaternion);
    this.controls.target.copy(this.camera.position).add(ahead);
    this.draw();
  },

  load(url) {
    if (!this.renderer) return;
    new GLTFLoader().load(url, (gltf) => {
      if (this.mesh) this.scene.remove(this.mesh);
      gltf.scene.traverse((child) => {
        if (child.isMesh) {
          const map = child.material.map;
          child.material = new THREE.MeshBasicMaterial({ map, side: THREE.DoubleSide });
        }
      });
      this.mesh = gltf.scene;
      this.scene.add(this.mesh);
      this.follow();
      $("preview").dataset.loaded = "1";
    }, undefined, (err) => status(`3-D preview: ${err.message || err}`, true));
  },

  draw() {
    if (this.renderer) this.renderer.render(this.scene, this.camera);
  },
};

function loadPreview() {
  const q = new URLSearchParams({ source: state.source, max_side: "256" });
  $("preview").dataset.loaded = "";
  preview.load(`/api/uploads/${state.upload.id}/mesh.glb?${q}`);
}

// ------------------------------------------------------------------------------------------------- start

async function main() {
  preview.init();
  try {
    state.config = await api("GET", "/api/config");
  } catch (err) {
    status(`cannot reach the server: ${err.message}`, true);
    return;
  }
  buildControls(state.config);
  setEnabled(false);
  $("file-input").addEventListener("change", (e) => e.target.files[0] && uploadFile(e.target.files[0]));
  $("example-btn").addEventListener("click", async () => {
    status("loading the example…");
    try { await onUploaded(await api("POST", "/api/uploads/example")); } catch (err) { status(err.message, true); }
  });
  $("source-select").addEventListener("change", (e) => { state.source = e.target.value; loadDepth(); });
  $("depth-file-input").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file || !state.upload) return;
    status("reading the depth file…");
    try {
      const reply = await api("POST", `/api/uploads/${state.upload.id}/depth`, file);
      state.upload.sources = reply.sources;
      const select = $("source-select");
      select.innerHTML = "";
      for (const name of reply.sources) select.add(new Option(name, name));
      state.source = "file";
      select.value = "file";
      await loadDepth();
    } catch (err) {
      status(err.message, true);
    }
  });
  document.body.dataset.ready = "1";
}

main();
