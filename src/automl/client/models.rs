//! Downloading a trained model: `GET /v2/models/{id}/download` answers a portable
//! document that loads as a [`TrainedModel`], which then scores frames here exactly as
//! the server does.

use super::context::Context;
use super::error::AutomlError;
use crate::automl::ml::TrainedModel;

impl Context {
    /// Downloads model `model_id` and loads it (blocking; for use outside a flow).
    /// Transient faults are retried as for any download.
    ///
    /// # Errors
    /// If the server cannot be reached or refuses (an unknown id, a model of a kind
    /// that has no portable form), or answers a document that does not load (another
    /// format version, say; [`AutomlError::Protocol`] then names the problem).
    ///
    /// # Examples
    /// ```
    /// # use taskloop::automl::{serve, Context, ServerConfig};
    /// # let server = serve(ServerConfig::new("me", "secret"))?;
    /// # let ctx = Context::connect(&server.url(), "me", "secret")?;
    /// use taskloop::automl::{parse_csv, CsvLimits, CsvSource, TrainInput};
    /// use taskloop::flow::Flow;
    ///
    /// let csv = "x,y\n1,2\n2,4\n3,6\n4,8\n";
    /// let mut flow = Flow::new();
    /// let data = ctx.upload(&mut flow, "data", CsvSource::text("t.csv", csv));
    /// let exp = ctx.train(&mut flow, "train", TrainInput::new(&data, "y").algos(["GLM"]).nfold(2));
    /// flow.run();
    /// let model = ctx.download_model(&exp.result()?.models[0].id)?;
    /// let frame = parse_csv("x\n5\n".as_bytes(), &CsvLimits::default())?;
    /// let predicted = model.predict(&frame, &[], None)?;
    /// let y = predicted.column("prediction").unwrap().text(0).unwrap().parse::<f64>()?;
    /// assert!((y - 10.0).abs() < 0.01);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn download_model(&self, model_id: &str) -> Result<TrainedModel, AutomlError> {
        let safe = !model_id.is_empty() && model_id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !safe {
            return Err(AutomlError::protocol(format!(
                "'{model_id}' is not a model id (letters and digits only)"
            )));
        }
        let path = format!("/v2/models/{model_id}/download");
        let (_, bytes) = self.inner.transport.download(&path, || Ok(Vec::new()))?;
        TrainedModel::from_portable(&bytes)
            .map_err(|e| AutomlError::protocol(format!("the model {model_id} did not load: {e}")))
    }
}
